//! Pictures the team uploads (campaign and project covers, the receipts' signature): known by
//! their content, never by their name or declared type; kept once under `DATA_DIR/medias/`,
//! named by their content's hash (a new picture is a new address, so it can be cached for
//! ever), and served at `/medias/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Webp => "webp",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }

    fn label(self) -> &'static str {
        match self {
            ImageKind::Png => "PNG",
            ImageKind::Jpeg => "JPEG",
            ImageKind::Webp => "WebP",
        }
    }

    fn of_extension(extension: &str) -> Option<ImageKind> {
        [ImageKind::Png, ImageKind::Jpeg, ImageKind::Webp]
            .into_iter()
            .find(|k| k.extension() == extension)
    }
}

/// What a kind of picture may be.
#[derive(Debug, Clone, Copy)]
pub struct ImageRules {
    pub kinds: &'static [ImageKind],
    pub max_bytes: usize,
    pub min_width: usize,
    pub max_side: usize,
}

/// A cover: big enough not to blur on a laptop, small enough to load on a phone.
pub const COVER: ImageRules = ImageRules {
    kinds: &[ImageKind::Jpeg, ImageKind::Png, ImageKind::Webp],
    max_bytes: 2 * 1024 * 1024,
    min_width: 640,
    max_side: 6000,
};

/// The signature printed on receipts: the PDF embeds PNG and JPEG.
pub const SIGNATURE: ImageRules = ImageRules {
    kinds: &[ImageKind::Png, ImageKind::Jpeg],
    max_bytes: 512 * 1024,
    min_width: 100,
    max_side: 3000,
};

/// The organisation's logo, in every page's header (shown 40 px high).
pub const LOGO: ImageRules = ImageRules {
    kinds: &[ImageKind::Png, ImageKind::Jpeg, ImageKind::Webp],
    max_bytes: 512 * 1024,
    min_width: 64,
    max_side: 3000,
};

/// A picture whose content was read and found to follow its rules.
#[derive(Debug, Clone)]
pub struct CheckedImage {
    pub kind: ImageKind,
    pub width: usize,
    pub height: usize,
    pub bytes: Vec<u8>,
}

fn kinds_label(kinds: &[ImageKind]) -> String {
    let labels: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
    match labels.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} ou {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// What the form asks for, in French: the message for a file that is not that.
pub fn wanted(rules: ImageRules) -> String {
    const MIB: usize = 1024 * 1024;
    let size = if rules.max_bytes.is_multiple_of(MIB) {
        format!("{} Mo", rules.max_bytes / MIB)
    } else {
        format!("{} Ko", rules.max_bytes / 1024)
    };
    format!(
        "Choisissez une image {} de {size} au plus.",
        kinds_label(rules.kinds)
    )
}

/// The picture, if its bytes are one of the allowed kinds within the rules; else why not, in
/// French, for the form.
pub fn check(bytes: Vec<u8>, rules: ImageRules) -> Result<CheckedImage, String> {
    let wanted = || wanted(rules);
    if bytes.is_empty() || bytes.len() > rules.max_bytes {
        return Err(wanted());
    }
    let kind = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Png) => ImageKind::Png,
        Ok(imagesize::ImageType::Jpeg) => ImageKind::Jpeg,
        Ok(imagesize::ImageType::Webp) => ImageKind::Webp,
        _ => return Err(wanted()),
    };
    if !rules.kinds.contains(&kind) {
        return Err(wanted());
    }
    let size = imagesize::blob_size(&bytes).map_err(|_| wanted())?;
    if size.width < rules.min_width || size.height == 0 {
        return Err(format!(
            "Cette image est trop petite : {} pixels de large au moins.",
            rules.min_width
        ));
    }
    if size.width > rules.max_side || size.height > rules.max_side {
        return Err(format!(
            "Cette image est trop grande : {} pixels de côté au plus.",
            rules.max_side
        ));
    }
    Ok(CheckedImage {
        kind,
        width: size.width,
        height: size.height,
        bytes,
    })
}

/// Where the pictures are kept.
pub fn directory(data_dir: &Path) -> PathBuf {
    data_dir.join("medias")
}

/// Keeps the picture (once: the same bytes have the same name) and returns its address on
/// the site. Written to a temporary file then renamed, so a reader never sees half of it.
pub fn store(data_dir: &Path, image: &CheckedImage) -> std::io::Result<String> {
    let name = format!(
        "{}.{}",
        hex::encode(Sha256::digest(&image.bytes)),
        image.kind.extension()
    );
    let dir = directory(data_dir);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(&name);
    if !path.exists() {
        let temporary = dir.join(format!(".{name}.{}", uuid::Uuid::new_v4()));
        let written = std::fs::File::create(&temporary).and_then(|mut file| {
            file.write_all(&image.bytes)?;
            file.sync_all()
        });
        if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, &path)) {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    }
    Ok(format!("/medias/{name}"))
}

/// A stored picture's name (`<sha-256>.<ext>`) and kind, or `None` for any other name (so no
/// path ever leaves the directory).
pub fn parse_name(name: &str) -> Option<ImageKind> {
    let (hash, extension) = name.split_once('.')?;
    let hash_ok = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hash_ok.then_some(())?;
    ImageKind::of_extension(extension)
}

/// The bytes of a stored picture, when it exists.
pub fn read(data_dir: &Path, address: &str) -> Option<(ImageKind, Vec<u8>)> {
    let name = address.strip_prefix("/medias/")?;
    let kind = parse_name(name)?;
    let bytes = std::fs::read(directory(data_dir).join(name)).ok()?;
    Some((kind, bytes))
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A valid PNG of `width` × `height` (one black pixel row repeated, uncompressed deflate).
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
            out.extend((data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend(kind);
            out.extend(data);
            out.extend(crc32(&out[start..]).to_be_bytes());
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = Vec::new();
        header.extend(width.to_be_bytes());
        header.extend(height.to_be_bytes());
        header.extend([8, 0, 0, 0, 0]); // 8-bit greyscale
        chunk(&mut out, b"IHDR", &header);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_picture_is_known_by_its_bytes_and_measured() {
        let image = check(png(1200, 675), COVER).unwrap();
        assert_eq!(
            (image.kind, image.width, image.height),
            (ImageKind::Png, 1200, 675)
        );
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0];
        assert!(
            check(jpeg.to_vec(), COVER).is_err(),
            "no size in it: refused"
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_french_reason() {
        for bytes in [
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            b"%PDF-1.7".to_vec(),
            Vec::new(),
        ] {
            let refused = check(bytes, COVER).unwrap_err();
            assert!(
                refused.starts_with("Choisissez une image JPEG, PNG ou WebP"),
                "{refused}"
            );
        }
        assert!(
            check(png(300, 200), COVER)
                .unwrap_err()
                .contains("trop petite")
        );
        assert!(
            check(png(7000, 200), COVER)
                .unwrap_err()
                .contains("trop grande")
        );
        let mut heavy = png(1200, 675);
        heavy.resize(COVER.max_bytes + 1, 0);
        assert!(check(heavy, COVER).is_err());
    }

    #[test]
    fn a_stored_picture_is_named_by_its_content_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let image = check(png(800, 450), COVER).unwrap();
        let address = store(dir.path(), &image).unwrap();
        assert_eq!(store(dir.path(), &image).unwrap(), address, "stored once");
        assert!(address.starts_with("/medias/") && address.ends_with(".png"));
        let (kind, bytes) = read(dir.path(), &address).unwrap();
        assert_eq!((kind, bytes), (ImageKind::Png, image.bytes));
        for name in ["../obole.db", "x.png", &format!("{}.svg", "a".repeat(64))] {
            assert!(parse_name(name).is_none(), "{name}");
        }
    }
}
