//! Job error classes: what each means and whether a retry can help.

/// One error class the worker records in `jobs.error_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorClass {
    pub name: &'static str,
    /// A retry reads the same input and fails the same way.
    pub permanent: bool,
    /// What it means for an operator, and what to do.
    pub meaning: &'static str,
}

const fn class(name: &'static str, permanent: bool, meaning: &'static str) -> ErrorClass {
    ErrorClass { name, permanent, meaning }
}

pub const EMPTY: ErrorClass = class("empty", true, "the file has no content; a retry reads the same empty file — replace the upload");
pub const UNSUPPORTED_TYPE: ErrorClass =
    class("unsupported_type", true, "not text, PDF, PNG, JPEG or TIFF; a retry cannot change the file type — convert and upload again");
pub const CORRUPT: ErrorClass = class("corrupt", true, "the PDF or image cannot be read; a retry reads the same broken file — upload a good copy");
pub const ENCRYPTED: ErrorClass = class("encrypted", true, "the PDF is password-protected; a retry cannot open it — upload an unprotected copy");
pub const NO_TEXT: ErrorClass = class("no_text", true, "no text layer and OCR found nothing; a retry finds the same — check the scan quality");
pub const TOO_LARGE: ErrorClass =
    class("too_large", true, "over the worker's size limit; a retry is refused the same way — raise PJ_MAX_FILE_MIB or split the file");
pub const SOURCE_MISSING: ErrorClass = class("source_missing", true, "the uploaded object was deleted; there is nothing to retry — upload it again");
pub const OCR_FAILED: ErrorClass = class("ocr_failed", false, "the OCR engine failed or took too long; a retry may succeed");
pub const OCR_TIMEOUT: ErrorClass = class("ocr_timeout", false, "the OCR engine failed or took too long; a retry may succeed");
pub const S3_UNAVAILABLE: ErrorClass = class("s3_unavailable", false, "an infrastructure failure; a retry may succeed once it is resolved");
pub const DATABASE: ErrorClass = class("database", false, "an infrastructure failure; a retry may succeed once it is resolved");
pub const INTERNAL: ErrorClass = class("internal", false, "an infrastructure failure; a retry may succeed once it is resolved");

/// Every class of this contract version.
pub const ALL: [ErrorClass; 12] =
    [EMPTY, UNSUPPORTED_TYPE, CORRUPT, ENCRYPTED, NO_TEXT, TOO_LARGE, SOURCE_MISSING, OCR_FAILED, OCR_TIMEOUT, S3_UNAVAILABLE, DATABASE, INTERNAL];

/// The class named `name`, if this contract version has it.
pub fn find(name: &str) -> Option<ErrorClass> {
    ALL.into_iter().find(|c| c.name == name)
}

/// What `name` means; a class from a newer worker is said to be unknown.
pub fn meaning(name: &str) -> &'static str {
    find(name).map(|c| c.meaning).unwrap_or("an error class this version of Vigil does not know; a retry may or may not help")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_unique_and_documented() {
        let contract = include_str!("../../../deploy-bundles/CONTRACT.md");
        for (i, c) in ALL.iter().enumerate() {
            assert!(ALL[..i].iter().all(|o| o.name != c.name), "{} twice", c.name);
            assert!(contract.contains(&format!("`{}`", c.name)), "{} is not in CONTRACT.md", c.name);
        }
        assert!(find("corrupt").unwrap().permanent);
        assert!(!find("database").unwrap().permanent);
        assert!(meaning("from_the_future").contains("does not know"));
    }
}
