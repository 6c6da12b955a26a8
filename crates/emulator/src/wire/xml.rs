//! A small XML writer for EC2 replies. Elements are written in the order the
//! caller gives; names are the `locationName`s of botocore's output shapes.

use std::fmt::Write;

pub const EC2_NAMESPACE: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";

#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        Self { out }
    }

    /// Opens the root element of an EC2 action reply and writes the request id.
    pub fn response(action: &str, request_id: &str) -> Self {
        let mut w = Self::new();
        let _ = write!(w.out, "<{action}Response xmlns=\"{EC2_NAMESPACE}\">");
        w.leaf("requestId", request_id);
        w
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn leaf(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.open(name);
        escape_into(&mut self.out, &value.to_string());
        self.close(name)
    }

    pub fn opt_leaf<T: std::fmt::Display>(&mut self, name: &str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }

    /// `<name><item>…</item>…</name>`, one item per element.
    pub fn set<T>(&mut self, name: &str, items: &[T], mut item: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.open(name);
        for it in items {
            self.open("item");
            item(self, it);
            self.close("item");
        }
        self.close(name)
    }

    pub fn finish(mut self, action: &str) -> String {
        let _ = write!(self.out, "</{action}Response>");
        self.out
    }

    /// Opens an AWS Query-protocol reply (STS, IAM):
    /// `<ActionResponse xmlns=…><ActionResult>`.
    pub fn query_response(action: &str, namespace: &str) -> Self {
        let mut w = Self::new();
        let _ = write!(w.out, "<{action}Response xmlns=\"{namespace}\"><{action}Result>");
        w
    }

    /// Closes a Query-protocol reply, with its request id.
    pub fn finish_query(mut self, action: &str, request_id: &str) -> String {
        let _ = write!(self.out, "</{action}Result><ResponseMetadata>");
        self.leaf("RequestId", request_id);
        let _ = write!(self.out, "</ResponseMetadata></{action}Response>");
        self.out
    }

    /// The raw text, for documents that are not action replies (errors).
    pub fn into_string(self) -> String {
        self.out
    }
}

/// Escapes text content (the writer emits no attributes but the fixed namespace).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // XML 1.0 cannot carry most control characters; drop them rather
            // than send a document the client cannot parse.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// EC2's error envelope.
pub fn error_document(code: &str, message: &str, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    w.open("Response").open("Errors").open("Error");
    w.leaf("Code", code).leaf("Message", message);
    w.close("Error").close("Errors");
    w.leaf("RequestID", request_id).close("Response");
    w.into_string()
}

/// The Query protocol's error envelope (STS, IAM).
pub fn query_error_document(namespace: &str, code: &str, message: &str, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    let _ = write!(w.out, "<ErrorResponse xmlns=\"{namespace}\">");
    w.open("Error")
        .leaf("Type", "Sender")
        .leaf("Code", code)
        .leaf("Message", message);
    w.close("Error").leaf("RequestId", request_id).close("ErrorResponse");
    w.into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        let mut s = String::new();
        escape_into(&mut s, "a<b>&\"c'\u{1}d");
        assert_eq!(s, r#"a&lt;b&gt;&amp;"c'd"#);
    }

    #[test]
    fn error_document_has_ec2_envelope() {
        let doc = error_document("InvalidAction", "nope", "req-1");
        assert!(doc.contains("<Response><Errors><Error><Code>InvalidAction</Code><Message>nope</Message></Error></Errors><RequestID>req-1</RequestID></Response>"));
    }
}
