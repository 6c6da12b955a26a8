//! Terminal output as text for the window: reads split UTF-8 characters
//! anywhere, so a character's first bytes wait for the rest.

#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    text.push_str(s);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        // Not UTF-8: shown as U+FFFD, as terminals do.
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                        // The start of a character whose end is still to come.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.pending = rest.to_vec();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_between_reads_comes_out_whole() {
        let bytes = "snapshot ✔ 100 % — fertig".as_bytes();
        for cut in 0..bytes.len() {
            let mut s = Utf8Stream::default();
            let text = s.decode(&bytes[..cut]) + &s.decode(&bytes[cut..]);
            assert_eq!(text, "snapshot ✔ 100 % — fertig", "cut at {cut}");
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.decode(b"a\xffb\xc3"), "a\u{fffd}b");
        assert_eq!(s.decode(b"\xa9"), "é");
    }
}
