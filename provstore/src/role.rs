//! What an execution did with a name (`execution_names.role`): one type, read and written in
//! one place, so every reader matches all four and a misspelt role is an error, not a row
//! silently skipped.

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::ToSql;

/// The role of a name in an execution; the strings are the column's `CHECK` constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Role {
    /// Bound (an assignment, import, def, …).
    Defined,
    /// Read, with its value from an earlier execution.
    Used,
    /// Changed in place (`d['a'] = 1`, `xs.append(1)`).
    Mutated,
    /// Removed with `del`.
    Deleted,
}

impl Role {
    /// The role as the table stores it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::Defined => "defined",
            Role::Used => "used",
            Role::Mutated => "mutated",
            Role::Deleted => "deleted",
        }
    }
}

/// A role string the table does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownRole(String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name role {:?} in execution_names", self.0)
    }
}

impl std::error::Error for UnknownRole {}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "defined" => Ok(Role::Defined),
            "used" => Ok(Role::Used),
            "mutated" => Ok(Role::Mutated),
            "deleted" => Ok(Role::Deleted),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

impl FromSql for Role {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Role> {
        value
            .as_str()?
            .parse()
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

impl ToSql for Role {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_as_written() {
        for role in [Role::Defined, Role::Used, Role::Mutated, Role::Deleted] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("use".parse::<Role>(), Err(UnknownRole("use".to_string())));
    }

    #[test]
    fn a_misspelt_role_in_the_table_is_an_error() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let read = |text: &str| conn.query_row("SELECT ?1", [text], |r| r.get::<_, Role>(0));
        assert_eq!(read("mutated").unwrap(), Role::Mutated);
        let err = read("defind").unwrap_err().to_string();
        assert!(err.contains("defind"), "{err}");
    }
}
