//! The shell integration's marks, taken out of the terminal's output.
//!
//! The shell prints an OSC sequence the terminal would ignore anyway:
//! `ESC ] 6973 ; <nonce> ; S BEL` when a command line starts running
//! (bash's PS0) and `ESC ] 6973 ; <nonce> ; C ; <exit status> ; <command
//! line> BEL` at the next prompt. The nonce is the session's own, so
//! output that happens to hold such a sequence (a `cat` of a file) is not
//! taken for a mark. [`MarkParser`] finds them in a byte stream that may
//! split them anywhere, hands the rest on unchanged, and never holds more
//! than [`MAX_MARK`] bytes.

const END: u8 = 0x07;
/// A mark longer than this is not ours (or is broken): it is passed on as output.
pub const MAX_MARK: usize = 64 * 1024;

/// One piece of the stream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Output(Vec<u8>),
    /// A command line started running.
    Started,
    /// A command line finished: its exit status and the line as typed.
    Finished {
        exit_status: i32,
        command: String,
    },
}

#[derive(Debug)]
pub struct MarkParser {
    /// What introduces a mark: `ESC ] 6973 ; <nonce> ;`.
    prefix: Vec<u8>,
    /// The start of what may be a mark, kept until its end arrives.
    held: Vec<u8>,
}

impl MarkParser {
    pub fn new(nonce: &str) -> Self {
        Self {
            prefix: format!("\x1b]6973;{nonce};").into_bytes(),
            held: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Piece> {
        let prefix = self.prefix.as_slice();
        let mut bytes = std::mem::take(&mut self.held);
        bytes.extend_from_slice(chunk);
        let mut pieces = Vec::new();
        let mut output = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != prefix[0] {
                output.push(bytes[i]);
                i += 1;
                continue;
            }
            let rest = &bytes[i..];
            let shared = rest.len().min(prefix.len());
            if rest[..shared] != prefix[..shared] {
                // Another escape sequence: the terminal's business.
                output.push(bytes[i]);
                i += 1;
                continue;
            }
            let end = rest.iter().position(|&b| b == END);
            match end {
                Some(end) if rest.len() >= prefix.len() => {
                    let body = &rest[prefix.len()..end];
                    flush(&mut output, &mut pieces);
                    match parse(body) {
                        Some(piece) => pieces.push(piece),
                        None => tracing::debug!("a shell mark that does not parse was dropped"),
                    }
                    i += end + 1;
                }
                _ if rest.len() > MAX_MARK => {
                    output.push(bytes[i]);
                    i += 1;
                }
                _ => {
                    // Incomplete: wait for the rest.
                    self.held = rest.to_vec();
                    break;
                }
            }
        }
        flush(&mut output, &mut pieces);
        pieces
    }
}

fn flush(output: &mut Vec<u8>, pieces: &mut Vec<Piece>) {
    if !output.is_empty() {
        pieces.push(Piece::Output(std::mem::take(output)));
    }
}

fn parse(body: &[u8]) -> Option<Piece> {
    if body == b"S" {
        return Some(Piece::Started);
    }
    let rest = body.strip_prefix(b"C;")?;
    let split = rest.iter().position(|&b| b == b';')?;
    let exit_status = std::str::from_utf8(&rest[..split]).ok()?.parse().ok()?;
    // The terminal turned the line's own line breaks into CR LF on the way out.
    let command = String::from_utf8_lossy(&rest[split + 1..])
        .replace("\r\n", "\n")
        .trim_end()
        .to_string();
    Some(Piece::Finished { exit_status, command })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(s: &str) -> Piece {
        Piece::Output(s.as_bytes().to_vec())
    }

    fn finished(exit_status: i32, command: &str) -> Piece {
        Piece::Finished {
            exit_status,
            command: command.into(),
        }
    }

    fn parser() -> MarkParser {
        MarkParser::new("n0nce")
    }

    #[test]
    fn marks_are_taken_out_and_the_rest_passes_unchanged() {
        let mut p = parser();
        let pieces =
            p.feed(b"\x1b]6973;n0nce;S\x07hello\r\n\x1b[1m$\x1b[0m \x1b]6973;n0nce;C;2;ls /nope\x07(snaplab) $ ");
        assert_eq!(
            pieces,
            vec![
                Piece::Started,
                out("hello\r\n\x1b[1m$\x1b[0m "),
                finished(2, "ls /nope"),
                out("(snaplab) $ ")
            ]
        );
    }

    #[test]
    fn a_mark_split_across_reads_is_put_back_together() {
        let stream = b"ab\x1b]6973;n0nce;C;0;aws ec2 describe-snapshots \\\r\n  --owner-ids self\x07cd";
        for cut in 0..stream.len() {
            let mut p = parser();
            let mut pieces = p.feed(&stream[..cut]);
            pieces.extend(p.feed(&stream[cut..]));
            let text: Vec<u8> = pieces
                .iter()
                .filter_map(|x| match x {
                    Piece::Output(b) => Some(b.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            assert_eq!(text, b"abcd", "cut at {cut}");
            let marks: Vec<&Piece> = pieces.iter().filter(|x| !matches!(x, Piece::Output(_))).collect();
            assert_eq!(
                marks,
                vec![&finished(0, "aws ec2 describe-snapshots \\\n  --owner-ids self")],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn other_escape_sequences_and_lone_escapes_are_output() {
        let mut p = parser();
        let title = b"\x1b]0;user@host\x07\x1b[31mred\x1b";
        let mut pieces = p.feed(title);
        // The lone ESC at the end may start a mark: held until the next byte.
        assert_eq!(pieces, vec![Piece::Output(b"\x1b]0;user@host\x07\x1b[31mred".to_vec())]);
        pieces = p.feed(b"[0m");
        assert_eq!(pieces, vec![out("\x1b[0m")]);
    }

    #[test]
    fn a_broken_or_endless_mark_is_dropped_or_passed_on_never_kept_forever() {
        let mut p = parser();
        assert_eq!(p.feed(b"\x1b]6973;n0nce;C;x;ls\x07ok"), vec![out("ok")]);
        let mut endless = b"\x1b]6973;n0nce;C;0;".to_vec();
        endless.extend(std::iter::repeat_n(b'a', MAX_MARK + 10));
        let pieces = p.feed(&endless);
        let passed: usize = pieces
            .iter()
            .map(|x| match x {
                Piece::Output(b) => b.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(passed + p.held.len(), endless.len());
        assert!(p.held.len() <= MAX_MARK, "held {} bytes", p.held.len());
    }

    #[test]
    fn a_mark_without_the_session_s_nonce_is_output_not_a_command() {
        let forged = b"\x1b]6973;guess;C;0;rm -rf /\x07";
        assert_eq!(parser().feed(forged), vec![Piece::Output(forged.to_vec())]);
    }
}
