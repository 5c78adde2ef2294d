//! Twilsock's framing (`TWILSOCK V3.0 <header bytes>\r\n<header JSON>\r\n<payload>`),
//! read from and written to binary WebSocket frames. Pure: no I/O, no state.

use serde_json::{Map, Value};

const MAGIC: &str = "TWILSOCK V3.0";
/// A header bigger than this is not a client's (theirs are a few hundred bytes).
const MAX_HEADER: usize = 64 * 1024;

/// One decoded frame: its header (always an object, with `method`) and payload bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub header: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// Why bytes are not a twilsock frame (answered with `close` 406).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("not a TWILSOCK V3.0 frame")]
    Magic,
    #[error("the header is not a JSON object with a method")]
    Header,
    #[error("payload_size does not match the frame")]
    PayloadSize,
}

impl Frame {
    pub fn new(method: &str, id: &str) -> Self {
        let mut header = Map::new();
        header.insert("method".into(), Value::from(method));
        header.insert("id".into(), Value::from(id));
        Self { header, payload: Vec::new() }
    }

    pub fn method(&self) -> &str {
        self.header.get("method").and_then(Value::as_str).unwrap_or("")
    }

    pub fn id(&self) -> Option<&str> {
        self.header.get("id").and_then(Value::as_str)
    }

    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.header.insert(key.into(), value);
        self
    }

    /// A JSON payload (`payload_type` application/json).
    pub fn json(self, payload: &Value) -> Self {
        let bytes = payload.to_string().into_bytes();
        self.body("application/json", bytes)
    }

    pub fn body(mut self, content_type: &str, payload: Vec<u8>) -> Self {
        self.header.insert("payload_type".into(), Value::from(content_type));
        self.payload = payload;
        self
    }

    /// The payload as JSON, when it is JSON (absent `payload_type` means JSON).
    #[cfg(test)]
    pub fn payload_json(&self) -> Option<Value> {
        if self.payload.is_empty() {
            return None;
        }
        serde_json::from_slice(&self.payload).ok()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let line_end = bytes.windows(2).take(MAGIC.len() + 24).position(|w| w == b"\r\n").ok_or(FrameError::Magic)?;
        let magic = std::str::from_utf8(&bytes[..line_end]).map_err(|_| FrameError::Magic)?;
        let header_len: usize = magic
            .strip_prefix(MAGIC)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|n| n.parse().ok())
            .filter(|&n| n <= MAX_HEADER)
            .ok_or(FrameError::Magic)?;
        let header_start = line_end + 2;
        let header_bytes = bytes.get(header_start..header_start + header_len).ok_or(FrameError::Header)?;
        let header: Map<String, Value> = serde_json::from_slice(header_bytes).map_err(|_| FrameError::Header)?;
        if !header.get("method").is_some_and(Value::is_string) {
            return Err(FrameError::Header);
        }
        let size = header.get("payload_size").and_then(Value::as_u64).unwrap_or(0) as usize;
        let payload = if size == 0 {
            Vec::new()
        } else {
            let start = header_start + header_len + 2;
            if bytes.get(header_start + header_len..start) != Some(b"\r\n") {
                return Err(FrameError::PayloadSize);
            }
            bytes.get(start..start + size).ok_or(FrameError::PayloadSize)?.to_vec()
        };
        Ok(Self { header, payload })
    }

    pub fn encode(mut self) -> Vec<u8> {
        self.header.insert("payload_size".into(), Value::from(self.payload.len()));
        let header = Value::Object(self.header).to_string();
        let mut out = Vec::with_capacity(header.len() + self.payload.len() + 32);
        out.extend_from_slice(format!("{MAGIC} {}\r\n", header.len()).as_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_frame_survives_encoding_and_counts_payload_bytes_not_chars() {
        let frame = Frame::new("message", "TM1").json(&json!({"body": "héllo ✓"}));
        let bytes = frame.clone().encode();
        let back = Frame::decode(&bytes).unwrap();
        assert_eq!(back.method(), "message");
        assert_eq!(back.id(), Some("TM1"));
        assert_eq!(back.payload_json(), Some(json!({"body": "héllo ✓"})));
        assert_eq!(back.header["payload_size"], json!(back.payload.len()));
    }

    #[test]
    fn a_client_frame_as_twilsock_writes_it_decodes() {
        let header = r#"{"method":"init","id":"TMx","token":"t","payload_size":0}"#;
        let raw = format!("TWILSOCK V3.0 {}\r\n{header}\r\n", header.len());
        let f = Frame::decode(raw.as_bytes()).unwrap();
        assert_eq!(f.method(), "init");
        assert_eq!(f.header["token"], json!("t"));
        assert!(f.payload.is_empty());
    }

    #[test]
    fn broken_frames_are_refused_not_panicked_on() {
        for raw in [
            &b""[..],
            b"HELLO",
            b"TWILSOCK V2.0 2\r\n{}\r\n",
            b"TWILSOCK V3.0 999\r\n{}",
            b"TWILSOCK V3.0 2\r\n{}\r\n",
            b"TWILSOCK V3.0 -1\r\n",
            b"TWILSOCK V3.0 35\r\n{\"method\":\"x\",\"payload_size\":99}\r\nab",
        ] {
            assert!(Frame::decode(raw).is_err(), "{:?}", String::from_utf8_lossy(raw));
        }
    }
}
