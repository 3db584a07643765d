//! Connecting to a team store the way libpq would: a `postgresql://` URL or a `key=value`
//! conninfo string (parsed by `postgres::Config`), the `PG*` environment for what it leaves
//! out (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`), the password from the URL, else
//! `PGPASSWORD`, else the password file (`pgpass.rs`), and a connect timeout (default 5 s,
//! `PGCONNECT_TIMEOUT` or `connect_timeout=` honoured) over the whole handshake, so an
//! unreachable server is a clear error in bounded time.
//!
//! TLS: `sslmode=disable` and `prefer` (the default) connect without it; `require` is refused
//! with a clear error, since this build links no TLS library.

use std::sync::mpsc;
use std::time::Duration;

use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};

use crate::error::pg_detail;
use crate::pgpass::{self, DEFAULT_SOCKET_DIR};
use crate::TeamError;

/// How long connecting may take unless `PGCONNECT_TIMEOUT` or the URL says otherwise.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The URL with its password (if any) replaced by `***`: the only form of a URL that prov
/// prints.
pub fn redact(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let after = &url[scheme_end + 3..];
        let authority_end = after.find(['/', '?']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        let mut out = url[..scheme_end + 3].to_string();
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        out.push_str(&redact_query(&after[authority_end..]));
        out
    } else {
        redact_conninfo(url)
    }
}

/// `?password=…` in a URL's query hidden.
fn redact_query(rest: &str) -> String {
    let Some(q) = rest.find('?') else {
        return rest.to_string();
    };
    let pairs: Vec<String> = rest[q + 1..]
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == "password" => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{}?{}", &rest[..q], pairs.join("&"))
}

/// `password=…` in a conninfo string hidden (quoted or not).
fn redact_conninfo(s: &str) -> String {
    let Some(start) = find_key(s, "password") else {
        return s.to_string();
    };
    let value_start = start + s[start..].find('=').map_or(0, |i| i + 1);
    let rest = s[value_start..].trim_start();
    let skipped = s[value_start..].len() - rest.len();
    let value_len = if let Some(quoted) = rest.strip_prefix('\'') {
        let mut escaped = false;
        let mut end = quoted.len();
        for (i, c) in quoted.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '\'' if !escaped => {
                    end = i + 1;
                    break;
                }
                _ => escaped = false,
            }
        }
        (end + 1).min(rest.len())
    } else {
        rest.find(char::is_whitespace).unwrap_or(rest.len())
    };
    let after = value_start + skipped + value_len;
    format!(
        "{}***{}",
        &s[..value_start + skipped],
        redact_conninfo(&s[after..])
    )
}

/// Where `key` (followed by optional spaces and `=`) starts in a conninfo string.
fn find_key(s: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(key) {
        let at = from + i;
        let before_ok = at == 0 || s[..at].ends_with(char::is_whitespace);
        let after = s[at + key.len()..].trim_start();
        if before_ok && after.starts_with('=') {
            return Some(at);
        }
        from = at + key.len();
    }
    None
}

/// Parses a URL or conninfo string. Errors never show the password.
pub(crate) fn parse(url: &str) -> Result<Config, TeamError> {
    url.parse::<Config>().map_err(|e| TeamError::BadUrl {
        url: redact(url),
        problem: e.to_string(),
    })
}

/// Whether the URL or conninfo string carries a password.
pub(crate) fn has_password(url: &str) -> Result<bool, TeamError> {
    Ok(parse(url)?.get_password().is_some())
}

/// A parsed connection, completed from the environment, with what to tell if it then fails.
pub(crate) struct Target {
    pub config: Config,
    /// Why the password file was skipped, if it was.
    pub pgpass_note: Option<String>,
}

/// The configuration `url` names, completed the way libpq completes it from the environment.
pub(crate) fn target(url: &str) -> Result<Target, TeamError> {
    let mut config = parse(url)?;
    if config.get_ssl_mode() == SslMode::Require {
        return Err(TeamError::TlsRequired { url: redact(url) });
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        match env("PGHOST") {
            Some(hosts) => hosts.split(',').for_each(|h| {
                config.host(h.trim());
            }),
            None if std::path::Path::new(DEFAULT_SOCKET_DIR).is_dir() => {
                config.host_path(DEFAULT_SOCKET_DIR);
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty() {
        if let Some(port) = env("PGPORT").and_then(|p| p.trim().parse::<u16>().ok()) {
            config.port(port);
        }
    }
    if config.get_user().is_none() {
        config.user(&env("PGUSER").unwrap_or_else(os_user));
    }
    if config.get_dbname().is_none() {
        if let Some(db) = env("PGDATABASE") {
            config.dbname(&db);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(connect_timeout(env("PGCONNECT_TIMEOUT").as_deref()));
    }
    let mut pgpass_note = None;
    if config.get_password().is_none() {
        if let Some(pw) = env("PGPASSWORD") {
            config.password(pw);
        } else if let Some(path) = pgpass::default_path() {
            let user = config.get_user().unwrap_or_default().to_string();
            let dbname = config.get_dbname().unwrap_or(&user).to_string();
            let port = config.get_ports().first().copied().unwrap_or(5432);
            for host in host_names(&config) {
                let found = pgpass::lookup(
                    &path,
                    &pgpass::Key {
                        host: &host,
                        port,
                        dbname: &dbname,
                        user: &user,
                    },
                );
                pgpass_note = found.ignored;
                if let Some(pw) = found.password {
                    config.password(pw);
                    break;
                }
            }
        }
    }
    Ok(Target {
        config,
        pgpass_note,
    })
}

/// The hosts as libpq's password lookup names them: a name or address as given, a socket
/// folder as its path.
fn host_names(config: &Config) -> Vec<String> {
    let mut names: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if names.is_empty() {
        names = config
            .get_hostaddrs()
            .iter()
            .map(|a| a.to_string())
            .collect();
    }
    names
}

/// `PGCONNECT_TIMEOUT` as libpq reads it: whole seconds, at least 2; 0 or less waits forever
/// (here: a day); unset or unreadable, the default.
pub(crate) fn connect_timeout(value: Option<&str>) -> Duration {
    match value.and_then(|v| v.trim().parse::<i64>().ok()) {
        Some(s) if s <= 0 => Duration::from_secs(24 * 3600),
        Some(s) => Duration::from_secs(s.max(2) as u64),
        None => DEFAULT_CONNECT_TIMEOUT,
    }
}

/// The user running us, libpq's default user: $USER, else $LOGNAME, else the passwd name.
fn os_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            return v;
        }
    }
    // SAFETY: as in pgpass::home_dir, the static record is read at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    "postgres".into()
}

/// Connects, the whole handshake (socket, startup, authentication) within the timeout: a
/// server that accepts and then says nothing is as unreachable as one that is down.
pub(crate) fn connect(url: &str) -> Result<Client, TeamError> {
    let Target {
        config,
        pgpass_note,
    } = target(url)?;
    let timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let (tx, rx) = mpsc::channel();
    let cfg = config.clone();
    // A thread of its own so the wait is bounded; if it is abandoned it ends with its socket.
    std::thread::Builder::new()
        .name("prov-team-connect".into())
        .spawn(move || {
            let _ = tx.send(cfg.connect(NoTls));
        })
        .map_err(|e| TeamError::Connect {
            url: redact(url),
            detail: format!("cannot start a thread: {e}"),
            hint: "retry".into(),
        })?;
    // The socket's own timeout fires first for a closed port; this one for a silent server.
    let result = rx.recv_timeout(timeout + Duration::from_millis(500));
    let failed = |detail: String, auth: bool| {
        let mut hint = if auth {
            "check the user and password: prov reads the password from $PGPASSWORD, else the \
             file $PGPASSFILE names, else ~/.pgpass (`host:port:database:user:password`, mode \
             0600)"
                .to_string()
        } else {
            format!(
                "is the server running on that host and accepting TCP/IP connections on that \
                 port (or, for a socket folder, local connections)? The wait was {} s \
                 (PGCONNECT_TIMEOUT, connect_timeout= in the URL)",
                timeout.as_secs()
            )
        };
        if let Some(note) = &pgpass_note {
            hint.push_str("; note: ");
            hint.push_str(note);
        }
        TeamError::Connect {
            url: redact(url),
            detail,
            hint,
        }
    };
    match result {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => {
            let auth = e.as_db_error().is_some_and(|db| {
                let code = db.code().code();
                code.starts_with("28")
            }) || e.to_string().contains("password missing");
            let mut detail = pg_detail(&e);
            if detail.contains("password missing") {
                detail = "the server asks for a password and none was found".into();
            }
            Err(failed(detail, auth))
        }
        Err(_) => Err(failed(
            format!("no answer within {} s", timeout.as_secs()),
            false,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_passwords_in_every_form() {
        assert_eq!(
            redact("postgresql://ann:s3cret@db:5432/prov"),
            "postgresql://ann:***@db:5432/prov"
        );
        assert_eq!(
            redact("postgresql://ann@db/prov?password=s3cret&sslmode=disable"),
            "postgresql://ann@db/prov?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=db password=s3cret user=ann"),
            "host=db password=*** user=ann"
        );
        assert_eq!(
            redact("host=db password = 'a \\' b' user=ann"),
            "host=db password = *** user=ann"
        );
        assert_eq!(redact("postgresql://db/prov"), "postgresql://db/prov");
        for url in [
            "postgresql://ann:s3cret@db:5432/prov",
            "host=db password=s3cret",
        ] {
            assert!(!redact(url).contains("s3cret"));
        }
    }

    #[test]
    fn passwords_are_found_in_urls_and_conninfo() {
        assert!(has_password("postgresql://ann:pw@db/prov").unwrap());
        assert!(has_password("postgresql://ann@db/prov?password=pw").unwrap());
        assert!(has_password("host=db user=ann password=pw").unwrap());
        assert!(!has_password("postgresql://ann@db:5432/prov").unwrap());
        assert!(!has_password("host=db user=ann dbname=prov").unwrap());
        let err = has_password("postgresql://ann:pw@db:notaport/prov").unwrap_err();
        assert!(!err.to_string().contains(":pw@"), "{err}");
    }

    #[test]
    fn the_timeout_follows_libpq() {
        assert_eq!(connect_timeout(None), DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(connect_timeout(Some("1")), Duration::from_secs(2));
        assert_eq!(connect_timeout(Some("10")), Duration::from_secs(10));
        assert!(connect_timeout(Some("0")) > Duration::from_secs(3600));
        assert_eq!(connect_timeout(Some("soon")), DEFAULT_CONNECT_TIMEOUT);
    }

    #[test]
    fn require_is_refused_clearly() {
        let Err(err) = target("postgresql://ann@db/prov?sslmode=require") else {
            panic!("sslmode=require needs TLS");
        };
        assert!(err.to_string().contains("sslmode=require"), "{err}");
    }

    #[test]
    fn a_url_names_what_libpq_would_fill_in() {
        let t = target("postgresql://ann@127.0.0.1:1/prov?connect_timeout=3").unwrap();
        assert_eq!(t.config.get_user(), Some("ann"));
        assert_eq!(t.config.get_ports(), &[1]);
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
        let bare = target("postgresql://127.0.0.1/prov").unwrap();
        assert!(bare.config.get_user().is_some(), "the OS user by default");
        assert!(bare.config.get_connect_timeout().is_some());
    }
}
