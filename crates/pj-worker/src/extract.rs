//! Text extraction: plain text, the text layer of PDFs, and images (PNG, JPEG, TIFF) through
//! the Tesseract OCR command. Every failure is classified; permanent ones (corrupt, encrypted,
//! empty, unsupported) send the file to quarantine, transient ones are retried.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Text,
    Pdf,
    Png,
    Jpeg,
    Tiff,
}

impl Media {
    pub fn mime(self) -> &'static str {
        match self {
            Media::Text => "text/plain",
            Media::Pdf => "application/pdf",
            Media::Png => "image/png",
            Media::Jpeg => "image/jpeg",
            Media::Tiff => "image/tiff",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub media: Media,
    pub pages: u32,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("the file is empty")]
    Empty,
    #[error("unsupported file type ({0}); expected plain text, PDF, PNG, JPEG or TIFF")]
    Unsupported(String),
    #[error("the file is corrupt: {0}")]
    Corrupt(String),
    #[error("the PDF is encrypted; send it without a password")]
    Encrypted,
    #[error("no text found: {0}")]
    NoText(String),
    #[error("OCR failed: {0}")]
    OcrFailed(String),
    #[error("OCR did not finish within {0:?}")]
    OcrTimeout(Duration),
}

impl ExtractError {
    /// The error class recorded in the job ledger (the contract's).
    pub fn contract_class(&self) -> pj_contract::jobs::ErrorClass {
        use pj_contract::jobs;
        match self {
            ExtractError::Empty => jobs::EMPTY,
            ExtractError::Unsupported(_) => jobs::UNSUPPORTED_TYPE,
            ExtractError::Corrupt(_) => jobs::CORRUPT,
            ExtractError::Encrypted => jobs::ENCRYPTED,
            ExtractError::NoText(_) => jobs::NO_TEXT,
            ExtractError::OcrFailed(_) => jobs::OCR_FAILED,
            ExtractError::OcrTimeout(_) => jobs::OCR_TIMEOUT,
        }
    }

    pub fn class(&self) -> &'static str {
        self.contract_class().name
    }

    /// Whether retrying the same bytes can never succeed.
    pub fn permanent(&self) -> bool {
        self.contract_class().permanent
    }
}

/// How images are read.
#[derive(Debug, Clone)]
pub struct Ocr {
    /// The Tesseract command (Debian's tesseract-ocr package provides `tesseract`).
    pub command: PathBuf,
    pub language: String,
    pub timeout: Duration,
}

impl Default for Ocr {
    fn default() -> Self {
        Ocr { command: "tesseract".into(), language: "eng".into(), timeout: Duration::from_secs(120) }
    }
}

/// The media type from the file's first bytes (names and declared types are not trusted).
pub fn sniff(bytes: &[u8]) -> Result<Media, ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"%PDF-") {
        return Ok(Media::Pdf);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Ok(Media::Png);
    }
    if starts(b"\xff\xd8\xff") {
        return Ok(Media::Jpeg);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Ok(Media::Tiff);
    }
    let known = [
        (&b"PK\x03\x04"[..], "ZIP or Office document"),
        (b"GIF8", "GIF image"),
        (b"\xd0\xcf\x11\xe0", "legacy Office document"),
        (b"{\\rtf", "RTF document"),
        (b"\x1f\x8b", "gzip archive"),
        (b"BM", "BMP image"),
    ];
    if let Some((_, what)) = known.iter().find(|(m, _)| starts(m)) {
        return Err(ExtractError::Unsupported(what.to_string()));
    }
    let sample = &bytes[..bytes.len().min(8192)];
    let control = sample.iter().filter(|b| **b < 0x09 || (**b > 0x0d && **b < 0x20)).count();
    if control * 100 > sample.len() {
        return Err(ExtractError::Unsupported("binary data".into()));
    }
    Ok(Media::Text)
}

/// Extracts the text of `bytes`.
pub async fn extract(bytes: Vec<u8>, ocr: &Ocr) -> Result<Extracted, ExtractError> {
    let media = sniff(&bytes)?;
    let out = match media {
        Media::Text => Extracted { media, pages: 1, text: decode_text(&bytes) },
        Media::Pdf => tokio::task::spawn_blocking(move || pdf_text(&bytes))
            .await
            .map_err(|e| ExtractError::Corrupt(format!("the PDF reader stopped: {e}")))??,
        Media::Png | Media::Jpeg | Media::Tiff => ocr_image(media, &bytes, ocr).await?,
    };
    if out.text.trim().is_empty() {
        return Err(match media {
            Media::Text => ExtractError::Empty,
            Media::Pdf => ExtractError::NoText("the PDF has no text layer (a scan without OCR?)".into()),
            _ => ExtractError::NoText("OCR found no text in the image".into()),
        });
    }
    Ok(out)
}

/// UTF-8 (with or without a byte-order mark), else Windows-1252 as legacy systems write it.
fn decode_text(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => b.iter().map(|&c| c as char).collect(),
    }
}

fn pdf_text(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let doc = lopdf::Document::load_mem(bytes).map_err(|e| ExtractError::Corrupt(format!("not a readable PDF ({e})")))?;
    if doc.is_encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let pages = doc.get_pages().len() as u32;
    // The extractor can panic on malformed content streams; that is a corrupt file, not a crash.
    let text = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes))
        .map_err(|_| ExtractError::Corrupt("the PDF's content could not be parsed".into()))?
        .map_err(|e| ExtractError::Corrupt(format!("the PDF's text could not be read ({e})")))?;
    Ok(Extracted { media: Media::Pdf, pages, text })
}

async fn ocr_image(media: Media, bytes: &[u8], ocr: &Ocr) -> Result<Extracted, ExtractError> {
    let mut child = tokio::process::Command::new(&ocr.command)
        .args(["stdin", "stdout", "-l", &ocr.language])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ExtractError::OcrFailed(format!("cannot start {} ({e}); install tesseract-ocr", ocr.command.display())))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = bytes.to_vec();
    let writer = tokio::spawn(async move {
        // A broken pipe here means Tesseract rejected the input; its exit status says why.
        let _ = stdin.write_all(&input).await;
    });
    let out = match tokio::time::timeout(ocr.timeout, child.wait_with_output()).await {
        Ok(r) => r.map_err(|e| ExtractError::OcrFailed(e.to_string()))?,
        Err(_) => return Err(ExtractError::OcrTimeout(ocr.timeout)),
    };
    let _ = writer.await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // Leptonica's messages when it cannot decode the image: the file is bad, not the engine.
        if stderr.contains("Error in pixRead") || stderr.contains("cannot be read") || stderr.contains("Unsupported image type") {
            return Err(ExtractError::Corrupt(format!("the {} image cannot be decoded", media.mime())));
        }
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(ExtractError::OcrFailed(format!("{} exited with {} ({last})", ocr.command.display(), out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // Tesseract ends every page with a form feed.
    let pages = text.matches('\u{c}').count().max(1) as u32;
    Ok(Extracted { media, pages, text: text.replace('\u{c}', "\n") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_trusts_bytes_not_names() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(Media::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(Media::Png));
        assert_eq!(sniff(b"Patient note\nline 2"), Ok(Media::Text));
        assert_eq!(sniff(b""), Err(ExtractError::Empty));
        assert_eq!(sniff(b"PK\x03\x04rest").unwrap_err().class(), "unsupported_type");
        assert_eq!(sniff(&[0u8, 1, 2, 3, 4, 5, 0, 0]).unwrap_err().class(), "unsupported_type");
    }

    #[tokio::test]
    async fn text_and_its_failures() {
        let ocr = Ocr::default();
        let t = extract("caf\u{e9} note".as_bytes().to_vec(), &ocr).await.unwrap();
        assert_eq!((t.media, t.pages, t.text.as_str()), (Media::Text, 1, "café note"));
        // Windows-1252 bytes are read, not rejected.
        assert_eq!(extract(b"caf\xe9".to_vec(), &ocr).await.unwrap().text, "café");
        assert_eq!(extract(b"  \n\t ".to_vec(), &ocr).await, Err(ExtractError::Empty));
    }

    #[tokio::test]
    async fn broken_pdfs_are_classified() {
        let ocr = Ocr::default();
        let e = extract(b"%PDF-1.4\nthis is not really a pdf".to_vec(), &ocr).await.unwrap_err();
        assert_eq!(e.class(), "corrupt");
        assert!(e.permanent());
    }

    #[tokio::test]
    async fn a_missing_ocr_engine_is_transient() {
        let ocr = Ocr { command: "/nonexistent/tesseract".into(), ..Ocr::default() };
        let e = extract(b"\x89PNG\r\n\x1a\nxxxx".to_vec(), &ocr).await.unwrap_err();
        assert_eq!(e.class(), "ocr_failed");
        assert!(!e.permanent());
    }
}
