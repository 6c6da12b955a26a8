//! Which shell the terminal runs, and what bash is given so that it marks
//! each command line it runs (see [`crate::marker`]).

use std::path::{Path, PathBuf};

/// The learner's login shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    pub program: PathBuf,
}

impl Shell {
    /// `$SHELL`, else the account's entry in /etc/passwd, else bash, else sh.
    pub fn login() -> Self {
        let from_env = std::env::var_os("SHELL").map(PathBuf::from);
        let from_passwd = || {
            let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok()?;
            let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
            passwd_shell(&passwd, &user)
        };
        let program = from_env
            .filter(|p| p.is_absolute() && p.exists())
            .or_else(|| from_passwd().filter(|p| p.exists()))
            .or_else(|| {
                ["/bin/bash", "/usr/bin/bash"]
                    .map(PathBuf::from)
                    .into_iter()
                    .find(|p| p.exists())
            })
            .unwrap_or_else(|| PathBuf::from("/bin/sh"));
        Self { program }
    }

    pub fn at(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }

    /// The program's name: `bash`, `zsh`…
    pub fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string())
    }

    /// Only bash is given the marks: with any other shell the terminal
    /// works, and the commands typed are not recorded.
    pub fn records_commands(&self) -> bool {
        self.name() == "bash"
    }

    /// The arguments that start it interactive, with `rcfile` for bash.
    pub(crate) fn args(&self, rcfile: Option<&Path>) -> Vec<String> {
        match rcfile {
            Some(rc) if self.records_commands() => {
                vec!["--rcfile".into(), rc.display().to_string(), "-i".into()]
            }
            _ => vec!["-i".into()],
        }
    }
}

fn passwd_shell(passwd: &str, user: &str) -> Option<PathBuf> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[0] == user && !fields[6].is_empty()).then(|| PathBuf::from(fields[6]))
    })
}

/// bash's start-up file for the terminal: the learner's own files first,
/// then the run's environment again (a `.bashrc` that exports AWS variables
/// must not send the lab's commands elsewhere), then the marks. A command
/// line's mark is printed at the next prompt, only when the history got a
/// new entry: an empty line or the first prompt (whose `history 1` is an
/// older session's) gives none. History is switched on whatever the
/// learner's files said, so that every line reaches it.
pub(crate) fn bash_rc(nonce: &str, env: &[(String, Option<String>)]) -> String {
    let mut rc = String::from(
        "# snaplab's terminal: your own start-up files, then the run's cloud, then the marks that record each command.\n\
         [ -f /etc/bash.bashrc ] && . /etc/bash.bashrc\n\
         [ -f ~/.bashrc ] && . ~/.bashrc\n",
    );
    for (key, value) in env {
        match value {
            Some(v) => rc.push_str(&format!("export {key}={}\n", single_quoted(v))),
            None => rc.push_str(&format!("unset {key}\n")),
        }
    }
    rc.push_str(&BASH_MARKS.replace("__NONCE__", nonce));
    rc
}

/// `value` as one shell word, whatever it holds.
fn single_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

const BASH_MARKS: &str = r#"# A command line that starts with a space is not recorded; repeats are.
HISTCONTROL=ignorespace
unset HISTIGNORE
set -o history
[[ $HISTSIZE =~ ^[1-9][0-9]*$ ]] || HISTSIZE=1000
__snaplab_last=
__snaplab_ready=
__snaplab_mark() {
  local status=$? line
  line=$(HISTTIMEFORMAT= builtin history 1)
  if [[ $line =~ ^[[:space:]]*([0-9]+)[*]?[[:space:]]+(.*)$ ]]; then
    if [[ -n $__snaplab_ready && ${BASH_REMATCH[1]} != "$__snaplab_last" ]]; then
      line=${BASH_REMATCH[2]}
      line=${line//$'\a'/ }
      line=${line//$'\e'/ }
      builtin printf '\e]6973;__NONCE__;C;%s;%s\a' "$status" "${line:0:16384}"
    fi
    __snaplab_last=${BASH_REMATCH[1]}
  fi
  __snaplab_ready=1
  return $status
}
PROMPT_COMMAND="__snaplab_mark${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
PS0="${PS0-}"$'\e]6973;__NONCE__;S\a'
PS1="(snaplab) ${PS1-\$ }"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passwd_entry_gives_the_account_s_shell() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nlena:x:1000:1000:Lena,,,:/home/lena:/usr/bin/zsh\nnobody:x:65534:65534::/nonexistent:\n";
        assert_eq!(passwd_shell(passwd, "lena"), Some(PathBuf::from("/usr/bin/zsh")));
        assert_eq!(passwd_shell(passwd, "nobody"), None);
        assert_eq!(passwd_shell(passwd, "ghost"), None);
    }

    #[test]
    fn the_run_s_variables_come_after_the_learner_s_files_quoted() {
        let env = [
            (
                "AWS_ENDPOINT_URL".to_string(),
                Some("http://h:4566/?a=1&b='x'".to_string()),
            ),
            ("AWS_PROFILE".to_string(), None),
        ];
        let rc = bash_rc("abc", &env);
        let user = rc.find(". ~/.bashrc");
        let export = rc.find(r#"export AWS_ENDPOINT_URL='http://h:4566/?a=1&b='\''x'\'''"#);
        assert!(matches!((user, export), (Some(u), Some(e)) if u < e), "{rc}");
        assert!(rc.contains("unset AWS_PROFILE\n"), "{rc}");
        assert!(rc.contains(r"\e]6973;abc;C;") && rc.contains(r"\e]6973;abc;S"), "{rc}");
        assert!(!rc.contains("__NONCE__"));
    }

    #[test]
    fn only_bash_gets_the_start_up_file() {
        let rc = Path::new("/tmp/rc");
        assert_eq!(Shell::at("/bin/bash").args(Some(rc)), ["--rcfile", "/tmp/rc", "-i"]);
        assert_eq!(Shell::at("/usr/bin/zsh").args(Some(rc)), ["-i"]);
        assert!(!Shell::at("/usr/bin/fish").records_commands());
    }
}
