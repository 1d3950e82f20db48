//! The setup QR image: a real QR code of the `otpauth://` URI, as a PNG data URL, drawn as the
//! server's QR library draws it (QRCoder's `PngByteQRCode.GetGraphic(4)` under
//! GoogleAuthenticator 3.2.0: error correction level Q, 4 pixels per module, a quiet zone of 4
//! modules, a 1-bit greyscale PNG).

use base64::Engine;

use crate::error::{Error, Result};

/// Pixels per QR module.
const SCALE: usize = 4;
/// The quiet zone around the code, in modules (the QR standard asks for 4).
const QUIET: usize = 4;

/// `data:image/png;base64,<PNG of a QR code that encodes text>`.
pub(crate) fn png_data_url(text: &str) -> Result<String> {
    let png = qr_png(text)?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// A black-on-white 1-bit greyscale PNG of a QR code (error correction level Q) that encodes
/// `text`.
pub(crate) fn qr_png(text: &str) -> Result<Vec<u8>> {
    qr_png_scaled(text, SCALE)
}

/// [`qr_png`] at `scale` pixels per module.
fn qr_png_scaled(text: &str, scale: usize) -> Result<Vec<u8>> {
    let failed = |what: &str, e: String| {
        Error::io(
            format!("render the QR image ({what})"),
            std::io::Error::other(e),
        )
    };
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::Q)
        .map_err(|e| failed("encode", e.to_string()))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * scale;
    // Rows of packed bits, most significant first; 1 is white.
    let row_bytes = side.div_ceil(8);
    let mut pixels = vec![0xffu8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules, i / modules);
        for dy in 0..scale {
            let row = ((my + QUIET) * scale + dy) * row_bytes;
            for dx in 0..scale {
                let x = (mx + QUIET) * scale + dx;
                pixels[row + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let side_u32 = u32::try_from(side).map_err(|e| failed("size", e.to_string()))?;
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder
            .write_header()
            .map_err(|e| failed("PNG header", e.to_string()))?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| failed("PNG data", e.to_string()))?;
        writer
            .finish()
            .map_err(|e| failed("PNG end", e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_png_of_a_real_qr_code() {
        let uri = "otpauth://totp/127.0.0.1:a%40b.c?secret=JBSWY3DPEHPK3PXP&issuer=127.0.0.1";
        let png = qr_png(uri).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().bit_depth, png::BitDepth::One);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let expected_modules = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::Q)
            .unwrap()
            .width();
        assert_eq!(info.width as usize, (expected_modules + 2 * QUIET) * SCALE);
        // The top-left finder pattern: dark at the first module after the quiet zone.
        let side = info.width as usize;
        let at = |x: usize, y: usize| buf[y * side + x];
        assert_eq!(at(0, 0), 255);
        assert_eq!(at(QUIET * SCALE, QUIET * SCALE), 0);
        let url = png_data_url(uri).unwrap();
        assert!(url.starts_with("data:image/png;base64,iVBORw0KGgo"));
        // Read back as an app would.
        assert_eq!(crate::totp::scan::read_qr_text(&png).unwrap().expose(), uri);
    }

    #[test]
    fn real_codes_read_at_every_scale_up_to_the_size_cap() {
        // The bounds against hostile images (side, finder-pattern candidates, time) leave
        // every real setup code readable: short and long accounts and domains, 1 to 9 pixels
        // per module, as long as the image fits in 512 pixels a side.
        let long = format!(
            "otpauth://totp/{d}:{a}%40{d}?secret=JBSWY3DPEHPK3PXP&issuer={d}",
            d = "docspace.some-long-company-name.example.com",
            a = "firstname.middlename.lastname"
        );
        for uri in [
            "otpauth://totp/127.0.0.1:a%40b.c?secret=JBSWY3DPEHPK3PXP&issuer=127.0.0.1",
            "otpauth://totp/portal.example.com:john.doe%40example.com?secret=GEZDGNBVGY3TQOJQ&issuer=portal.example.com",
            long.as_str(),
        ] {
            let modules = qrcode::QrCode::with_error_correction_level(uri, qrcode::EcLevel::Q)
                .unwrap()
                .width();
            for scale in 1..=9 {
                if (modules + 2 * QUIET) * scale > 512 {
                    continue;
                }
                let png = qr_png_scaled(uri, scale).unwrap();
                let text = crate::totp::scan::read_qr_text(&png);
                assert_eq!(text.unwrap().expose(), uri, "{modules} modules at {scale} px");
            }
        }
    }
}
