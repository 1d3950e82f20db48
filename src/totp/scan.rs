//! Reading the QR image the way an authenticator app does: PNG → pixels → the text it encodes.
//!
//! The portal writes the exact `otpauth://` URI only into the QR image (its issuer is the
//! tenant's domain, which a client cannot always know), so reading the image is the one way
//! to get that URI byte for byte. A pure-Rust QR reader (`rqrr`) does it; the PNG decoder is
//! `png`. Both run on data from the network: the image size is bounded before any pixel is
//! decoded, and a panic inside the reader becomes an error instead of ending the program.

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The largest image side read, in pixels. The portal's images are about 200 pixels wide
/// (4 pixels per module); 4096 leaves room for any scale an app could read.
pub(crate) const MAX_SIDE: u32 = 4096;

/// The text of the single QR code in a PNG image.
pub(crate) fn read_qr_text(png_bytes: &[u8]) -> Result<Secret> {
    let bad = |reason: &str| Error::invalid_input("QR image", reason.to_owned());
    let (width, height, luma) = decode_luma(png_bytes).map_err(|reason| bad(&reason))?;
    // The reader indexes pixels it computes; a malformed image must not end the program.
    let texts = catch_unwind(AssertUnwindSafe(|| {
        let mut image =
            rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
        image
            .detect_grids()
            .iter()
            .map(|grid| grid.decode().map(|(_, text)| text).ok())
            .collect::<Vec<_>>()
    }))
    .map_err(|_| bad("the QR reader could not make sense of the image"))?;
    match texts.as_slice() {
        [] => Err(bad("no QR code was found in the image")),
        [Some(text)] => Ok(Secret::new(text.clone())),
        [None] => Err(bad("the QR code in the image could not be decoded")),
        _ => Err(bad("the image holds more than one QR code")),
    }
}

/// Decodes a PNG of any color type and bit depth to 8-bit luma, row by row.
fn decode_luma(png_bytes: &[u8]) -> std::result::Result<(usize, usize, Vec<u8>), String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    decoder.set_limits(png::Limits {
        bytes: 4 * (MAX_SIDE as usize) * (MAX_SIDE as usize),
    });
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("it is not a readable PNG ({})", png_error(&e)))?;
    let (width, height) = {
        let info = reader.info();
        (info.width, info.height)
    };
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "its size {width}×{height} is outside 1–{MAX_SIDE} pixels a side"
        ));
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
