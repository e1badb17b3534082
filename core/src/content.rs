//! The content of an opened message: its text and the files attached to
//! it. Both are sealed together, so the server's tables never link a
//! message to its files.
//!
//! A message without attachments is sealed as its UTF-8 text alone. One
//! with attachments starts with a zero byte, which no text may contain,
//! then the number of attachments (one byte), their ids (16 bytes each),
//! then the text.

use uuid::Uuid;

use crate::values::InvalidValue;

/// Maximum number of files attached to one message.
pub const MAX_ATTACHMENTS: usize = 10;

/// A message's text and attached file ids.
#[derive(Clone, PartialEq, Eq)]
pub struct MessageContent {
    body: String,
    attachments: Vec<Uuid>,
}

/// A sealed message whose plaintext does not follow the layout above.
#[derive(Debug, thiserror::Error)]
#[error("malformed message content")]
pub struct MalformedContent;

impl MessageContent {
    /// Validates a message: at most `max_bytes` of text without NUL
    /// characters, not blank unless files are attached, and at most
    /// [`MAX_ATTACHMENTS`] distinct files.
    pub fn parse(
        body: String,
        attachments: Vec<Uuid>,
        max_bytes: usize,
    ) -> Result<Self, InvalidValue> {
        if body.trim().is_empty() && attachments.is_empty() {
            return Err(InvalidValue::new("body", "must not be empty"));
        }
        if body.len() > max_bytes {
            return Err(InvalidValue::new(
                "body",
                format!(
                    "{} bytes is over the limit of {max_bytes} bytes",
                    body.len()
                ),
            ));
        }
        if body.contains('\0') {
            return Err(InvalidValue::new(
                "body",
                "must not contain a NUL character",
            ));
        }
        if attachments.len() > MAX_ATTACHMENTS {
            return Err(InvalidValue::new(
                "attachments",
                format!(
                    "{} files is over the limit of {MAX_ATTACHMENTS}",
                    attachments.len()
                ),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(repeated) = attachments.iter().find(|id| !seen.insert(**id)) {
            return Err(InvalidValue::new(
                "attachments",
                format!("{repeated} is listed twice"),
            ));
        }
        Ok(Self { body, attachments })
    }

    /// Returns the text.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Returns the attached file ids, in the order the sender gave them.
    pub fn attachments(&self) -> &[Uuid] {
        &self.attachments
    }

    /// Splits the content into its text and attachments.
    pub fn into_parts(self) -> (String, Vec<Uuid>) {
        (self.body, self.attachments)
    }

    /// Returns the bytes to seal.
    pub fn to_plaintext(&self) -> Vec<u8> {
        if self.attachments.is_empty() {
            return self.body.as_bytes().to_vec();
        }
        let mut bytes = Vec::with_capacity(2 + 16 * self.attachments.len() + self.body.len());
        bytes.push(0);
        // At most MAX_ATTACHMENTS, so the count fits in one byte.
        bytes.push(self.attachments.len() as u8);
        for id in &self.attachments {
            bytes.extend_from_slice(id.as_bytes());
        }
        bytes.extend_from_slice(self.body.as_bytes());
        bytes
    }

    /// Reads opened bytes back.
    pub fn from_plaintext(bytes: Vec<u8>) -> Result<Self, MalformedContent> {
        if bytes.first() != Some(&0) {
            let body = String::from_utf8(bytes).map_err(|_utf8| MalformedContent)?;
            return Ok(Self {
                body,
                attachments: Vec::new(),
            });
        }
        let count = usize::from(*bytes.get(1).ok_or(MalformedContent)?);
        let ids_end = 2 + 16 * count;
        let ids = bytes.get(2..ids_end).ok_or(MalformedContent)?;
        let attachments = ids
            .chunks_exact(16)
            .map(|id| Uuid::from_slice(id).map_err(|_length| MalformedContent))
            .collect::<Result<Vec<_>, _>>()?;
        let body =
            String::from_utf8(bytes[ids_end..].to_vec()).map_err(|_utf8| MalformedContent)?;
        Ok(Self { body, attachments })
    }
}

impl std::fmt::Debug for MessageContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MessageContent({} bytes, {} attachments)",
            self.body.len(),
            self.attachments.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_alone_is_sealed_as_text() {
        let content = MessageContent::parse("Hello".into(), Vec::new(), 100).unwrap();
        assert_eq!(content.to_plaintext(), b"Hello");
    }

    #[test]
    fn attachments_round_trip() {
        let ids = vec![Uuid::now_v7(), Uuid::now_v7()];
        let content = MessageContent::parse("Photos".into(), ids.clone(), 100).unwrap();
        let back = MessageContent::from_plaintext(content.to_plaintext()).unwrap();
        assert_eq!(back.body(), "Photos");
        assert_eq!(back.attachments(), ids.as_slice());
    }

    #[test]
    fn blank_text_needs_an_attachment() {
        assert!(MessageContent::parse(" ".into(), Vec::new(), 100).is_err());
        assert!(MessageContent::parse(String::new(), vec![Uuid::now_v7()], 100).is_ok());
    }

    #[test]
    fn text_over_the_limit_is_rejected() {
        assert!(MessageContent::parse("hi".into(), Vec::new(), 2).is_ok());
        let error = MessageContent::parse("hey".into(), Vec::new(), 2).unwrap_err();
        assert_eq!(error.field, "body");
    }

    #[test]
    fn nul_in_text_is_rejected() {
        let error = MessageContent::parse("a\0b".into(), Vec::new(), 100).unwrap_err();
        assert_eq!(error.field, "body");
    }

    #[test]
    fn too_many_or_repeated_attachments_are_rejected() {
        let many: Vec<Uuid> = (0..=MAX_ATTACHMENTS).map(|_| Uuid::now_v7()).collect();
        let error = MessageContent::parse("x".into(), many, 100).unwrap_err();
        assert_eq!(error.field, "attachments");
        let id = Uuid::now_v7();
        let error = MessageContent::parse("x".into(), vec![id, id], 100).unwrap_err();
        assert_eq!(error.field, "attachments");
    }

    #[test]
    fn cut_envelope_is_malformed() {
        let content = MessageContent::parse("x".into(), vec![Uuid::now_v7()], 100).unwrap();
        let mut bytes = content.to_plaintext();
        bytes.truncate(10);
        assert!(MessageContent::from_plaintext(bytes).is_err());
    }
}
