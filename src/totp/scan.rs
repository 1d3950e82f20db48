//! Reading the QR image the way an authenticator app does: PNG → pixels → the text it encodes.
//!
//! The portal writes the exact `otpauth://` URI only into the QR image (its issuer is the
//! tenant's domain, which a client cannot always know), so reading the image is the one way
//! to get that URI byte for byte. A pure-Rust QR reader (`rqrr`) does it; the PNG decoder is
//! `png`. Both run on data from the network, and a hostile image must neither hang the caller
//! nor exhaust its memory:
//!
//! - the PNG's declared size is checked before any pixel is decoded: at most [`MAX_SIDE`]
//!   pixels a side (the portal's images are about 200–260), and the decoder's buffer is
//!   bounded to match;
//! - the finder-pattern candidates are counted first ([`super::finders`]): an image with more
//!   than [`MAX_CANDIDATES`] is refused before the reader, whose time grows faster than the
//!   square of that count, sees it;
//! - the reader runs on a helper thread, and the caller waits at most [`SCAN_BUDGET`] for it;
//!   past that the image is refused (the helper finishes in the background: its work is
//!   bounded by the two checks above);
//! - a panic inside the reader (`rqrr` 0.10 has a known assertion in its grid detection)
//!   becomes an error instead of ending the program.
//!
//! Every refusal is an [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) about the
//! "QR image"; [`SetupCode::otpauth_uri`](crate::SetupCode::otpauth_uri) then builds the URI
//! from the setup code instead.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use super::finders::{count_candidates, MAX_CANDIDATES};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The largest image side read, in pixels. The portal draws 4 pixels per module with a quiet
/// zone of 4 modules: about 200–260 pixels for its setup codes; 512 leaves room for twice that
/// scale.
pub(crate) const MAX_SIDE: u32 = 512;

/// How long the caller waits for the reader. The portal's image takes a few milliseconds in a
/// release build and well under a second in a debug build.
pub(crate) const SCAN_BUDGET: Duration = Duration::from_secs(3);

/// What the reader found: one text per QR code (`None`: found but not decodable), or why it
/// refused the image.
type Found = std::result::Result<Vec<Option<String>>, &'static str>;

/// The text of the single QR code in a PNG image.
pub(crate) fn read_qr_text(png_bytes: &[u8]) -> Result<Secret> {
    read_qr_text_within(png_bytes, SCAN_BUDGET)
}

/// [`read_qr_text`], waiting at most `budget` for the reader.
fn read_qr_text_within(png_bytes: &[u8], budget: Duration) -> Result<Secret> {
    let bad = |reason: &str| Error::invalid_input("QR image", reason.to_owned());
    let (width, height, luma) = decode_luma(png_bytes).map_err(|reason| bad(&reason))?;
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("docspace-tfa-qr".to_owned())
        .spawn(move || {
            // The receiver may have given up: nobody is left to tell.
            let _ = sender.send(scan(width, height, &luma));
        })
        .map_err(|_| bad("the QR reader could not be started"))?;
    let texts = match receiver.recv_timeout(budget) {
        Ok(found) => found.map_err(bad)?,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            return Err(bad(&format!(
                "the QR reader took longer than {} ms",
                budget.as_millis()
            )))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err(bad("the QR reader stopped without an answer"))
        }
    };
    match texts.as_slice() {
        [] => Err(bad("no QR code was found in the image")),
        [Some(text)] => Ok(Secret::new(text.clone())),
        [None] => Err(bad("the QR code in the image could not be decoded")),
        _ => Err(bad("the image holds more than one QR code")),
    }
}

/// The reader's pass over the pixels: threshold, count the finder-pattern candidates, detect
/// and decode the grids.
fn scan(width: usize, height: usize, luma: &[u8]) -> Found {
    // The reader indexes pixels it computes; a malformed image must not end the program.
    catch_unwind(AssertUnwindSafe(|| {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
        // After preparation every pixel is white (0) or black (1).
        let candidates = count_candidates(width, height, MAX_CANDIDATES, |x, y| {
            image.get_pixel_at(x, y) == 1u8
        });
        if candidates > MAX_CANDIDATES {
            return Err("the image holds too many finder-pattern-like shapes to be a setup code");
        }
        Ok(image
            .detect_grids()
            .iter()
            .map(|grid| grid.decode().map(|(_, text)| text).ok())
            .collect())
    }))
    .unwrap_or(Err("the QR reader could not make sense of the image"))
}

/// Decodes a PNG of any color type and bit depth to 8-bit luma, row by row.
fn decode_luma(png_bytes: &[u8]) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    // RGBA at 8 bits is the largest frame `normalize_to_color8` makes: 1 MiB at 512×512.
    decoder.set_limits(png::Limits {
        bytes: 4 * (MAX_SIDE as usize) * (MAX_SIDE as usize),
    });
    let (width, height) = declared_size(png_bytes)?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "its size {width}×{height} is outside 1–{MAX_SIDE} pixels a side"
        ));
    }
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("it is not a readable PNG ({})", png_error(&e)))?;
    if (reader.info().width, reader.info().height) != (width, height) {
        return Err("its header is inconsistent".to_owned());
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| "its size overflows".to_owned())?;
    let mut buf = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("its pixels cannot be decoded ({})", png_error(&e)))?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("its palette was not expanded".to_owned()),
    };
    let line = frame.line_size;
    if line < w * channels || buf.len() < line * h {
        return Err("its pixel data is shorter than its size".to_owned());
    }
    let mut luma = Vec::with_capacity(w * h);
    for row in buf.chunks(line).take(h) {
        for px in row[..w * channels].chunks(channels) {
            let value = match channels {
                1 | 2 => px[0],
                _ => {
                    let (r, g, b) = (u32::from(px[0]), u32::from(px[1]), u32::from(px[2]));
                    u8::try_from((299 * r + 587 * g + 114 * b) / 1000).unwrap_or(u8::MAX)
                }
            };
            // A transparent pixel is the background (white), as an app shows it.
            let alpha = match channels {
                2 => px[1],
                4 => px[3],
                _ => u8::MAX,
            };
            let blended = (u32::from(value) * u32::from(alpha)
                + u32::from(u8::MAX) * u32::from(u8::MAX - alpha))
                / u32::from(u8::MAX);
            luma.push(u8::try_from(blended).unwrap_or(u8::MAX));
        }
    }
    Ok((w, h, luma))
}

/// The width and height a PNG declares in its header (`IHDR`, the first chunk), read before
/// the decoder allocates anything.
fn declared_size(png_bytes: &[u8]) -> std::result::Result<(u32, u32), String> {
    let not_png = || "it is not a readable PNG (truncated or malformed)".to_owned();
    let header = png_bytes.get(..24).ok_or_else(not_png)?;
    if header[..8] != super::qr::PNG_SIGNATURE[..] || &header[12..16] != b"IHDR" {
        return Err(not_png());
    }
    let field = |at: usize| {
        header
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
            .ok_or_else(not_png)
    };
    Ok((field(16)?, field(20)?))
}

/// A PNG error in a few words, without data from the image.
fn png_error(e: &png::DecodingError) -> &'static str {
    match e {
        png::DecodingError::IoError(_) => "truncated",
        png::DecodingError::Format(_) => "malformed",
        png::DecodingError::Parameter(_) => "unsupported",
        png::DecodingError::LimitsExceeded => "too large",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `w`×`h` pixels of one color type, from a pixel function.
    fn png_of(w: u32, h: u32, color: png::ColorType, depth: png::BitDepth, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(color);
        encoder.set_depth(depth);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn images_without_a_code_are_errors_not_panics() {
        let blank = png_of(
            64,
            64,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &[255; 64 * 64],
        );
        let err = read_qr_text(&blank).unwrap_err();
        assert!(err.to_string().contains("no QR code"), "{err}");
        let mut noise = vec![0u8; 97 * 61 * 4];
        let mut x: u32 = 12345;
        for b in &mut noise {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            *b = (x >> 16) as u8;
        }
        let rgba = png_of(97, 61, png::ColorType::Rgba, png::BitDepth::Eight, &noise);
        assert!(read_qr_text(&rgba).is_err());
        assert!(read_qr_text(b"\x89PNG\r\n\x1a\n").is_err());
        assert!(read_qr_text(&[]).is_err());
    }

    /// A greyscale PNG tiled with finder patterns, 1 pixel per module: a few hundred bytes that
    /// kept the reader busy for minutes (thousands of candidates at 512×512).
    fn tiled_png(side: usize, module: usize) -> Vec<u8> {
        let pixels: Vec<u8> = super::super::finders::tests::tiled(side, module)
            .into_iter()
            .map(|dark| if dark { 0 } else { 255 })
            .collect();
        let side = u32::try_from(side).unwrap();
        png_of(
            side,
            side,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &pixels,
        )
    }

    #[test]
    fn a_hostile_image_of_finder_patterns_is_refused_at_once() {
        for side in [128, 256, 512] {
            let png = tiled_png(side, 1);
            assert!(png.len() < 4096, "{} bytes", png.len());
            let started = std::time::Instant::now();
            let err = read_qr_text(&png).unwrap_err();
            let took = started.elapsed();
            assert!(err.to_string().contains("too many finder-pattern"), "{err}");
            // Minutes before the check. Refused by the candidates' count (the message says
            // so), before the reader runs; the time bound has 10× headroom for a busy machine.
            assert!(
                took < std::time::Duration::from_secs(20),
                "{side} px took {took:?}"
            );
        }
    }

    #[test]
    fn the_most_work_an_image_under_the_limits_can_cause_is_short() {
        // Tiled finder patterns, as many as fit under the limit (121 small ones; 100 at 6 pixels
        // per module, which fill 480 px): the reader pairs them all and finds no single code. The work is bounded by counts, not
        // by the clock (a busy 2-core machine once took over 3 s here in a debug build): the
        // candidates the reader gets are at most MAX_CANDIDATES, and the pixels at most
        // MAX_SIDE². The reader runs here without the caller's budget, so that the check does
        // not depend on the machine's load; its wall time has 10× headroom over SCAN_BUDGET
        // (docs/reliability.md, "Timing in tests").
        for (side, module, expected) in [(88, 1, 121), (480, 6, 100)] {
            let (width, height, luma) = decode_luma(&tiled_png(side, module)).unwrap();
            assert!(width * height <= (MAX_SIDE * MAX_SIDE) as usize);
            let image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
                luma[y * width + x]
            });
            let candidates = count_candidates(width, height, usize::MAX, |x, y| {
                image.get_pixel_at(x, y) == 1u8
            });
            assert_eq!(candidates, expected, "{side} px");
            assert!(candidates <= MAX_CANDIDATES);
            let started = std::time::Instant::now();
            let found = scan(width, height, &luma).unwrap();
            assert!(found.len() > 1, "{side} px: {} codes", found.len());
            assert!(
                started.elapsed() < SCAN_BUDGET * 10,
                "{side} px: {:?}",
                started.elapsed()
            );
            let err = read_qr_text_within(&tiled_png(side, module), Duration::MAX).unwrap_err();
            assert!(err.to_string().contains("more than one QR code"), "{err}");
        }
    }

    #[test]
    fn an_image_larger_than_the_cap_is_refused_before_decoding() {
        // A 4096×4096 image compresses to a few kilobytes and decodes to 64 MiB; it is refused
        // from its header. So is a header that declares 1 million pixels a side.
        let png = tiled_png(4096, 1);
        let started = std::time::Instant::now();
        let err = read_qr_text(&png).unwrap_err();
        assert!(
            err.to_string().contains("4096×4096 is outside 1–512"),
            "{err}"
        );
        // Refused from the header (the message says so); 10× headroom for a busy machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let mut huge = png_of(1, 1, png::ColorType::Grayscale, png::BitDepth::Eight, &[0]);
        huge[16..20].copy_from_slice(&1_000_000u32.to_be_bytes());
        let err = read_qr_text(&huge).unwrap_err();
        assert!(err.to_string().contains("1000000×1 is outside"), "{err}");
        let side = png_of(
            513,
            1,
            png::ColorType::Grayscale,
            png::BitDepth::Eight,
            &[0; 513],
        );
        assert!(read_qr_text(&side).is_err());
    }

    #[test]
    fn the_reader_is_given_a_deadline() {
        let png = tiled_png(64, 2);
        let err = read_qr_text_within(&png, std::time::Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("took longer than 0 ms"), "{err}");
    }

    #[test]
    fn decodes_every_pixel_format_to_luma() {
        // 2×1: black, white.
        for (color, depth, data) in [
            (
                png::ColorType::Grayscale,
                png::BitDepth::One,
                vec![0b0100_0000],
            ),
            (
                png::ColorType::Grayscale,
                png::BitDepth::Eight,
                vec![0, 255],
            ),
            (
                png::ColorType::Rgb,
                png::BitDepth::Eight,
                vec![0, 0, 0, 255, 255, 255],
            ),
            (
                png::ColorType::Rgba,
                png::BitDepth::Eight,
                vec![0, 0, 0, 255, 0, 0, 0, 0],
            ),
            (
                png::ColorType::GrayscaleAlpha,
                png::BitDepth::Eight,
                vec![0, 255, 0, 0],
            ),
        ] {
            let png = png_of(2, 1, color, depth, &data);
            let (w, h, luma) = decode_luma(&png).unwrap();
            assert_eq!((w, h, luma), (2, 1, vec![0, 255]), "{color:?} {depth:?}");
        }
    }
}
