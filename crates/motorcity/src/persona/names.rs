//! Which persona names the server accepts.
//!
//! The limits come from the wire: MCOTS carries persona names as `char[13]`
//! (12 characters and a NUL) and the persona list as 16 bytes, so 12 is the
//! longest name every message can carry whole. The character set is kept
//! to what the client's 8-bit text and chat can show unambiguously.

/// Shortest accepted name.
pub const PERSONA_NAME_MIN: usize = 3;
/// Longest accepted name (the MCOTS `char[13]` field minus its NUL).
pub const PERSONA_NAME_MAX: usize = 12;

/// Why a persona name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    /// Fewer than [`PERSONA_NAME_MIN`] characters.
    #[error("name is shorter than {PERSONA_NAME_MIN} characters")]
    TooShort,
    /// More than [`PERSONA_NAME_MAX`] characters.
    #[error("name is longer than {PERSONA_NAME_MAX} characters")]
    TooLong,
    /// A character outside letters, digits, space, `-`, `_` and `.`.
    #[error("name contains {0:?}, which is not allowed")]
    BadCharacter(char),
    /// Starts with something other than a letter or digit, ends with a
    /// space, or has two spaces in a row: all invisible or confusable in
    /// the client's lists.
    #[error("name has a leading symbol, trailing space or double space")]
    Spacing,
}

/// Checks a wanted persona name against the rules above.
pub fn check_persona_name(name: &str) -> Result<(), NameProblem> {
    let len = name.chars().count();
    if len < PERSONA_NAME_MIN {
        return Err(NameProblem::TooShort);
    }
    if len > PERSONA_NAME_MAX {
        return Err(NameProblem::TooLong);
    }
    if let Some(bad) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.')))
    {
        return Err(NameProblem::BadCharacter(bad));
    }
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !starts_well || name.ends_with(' ') || name.contains("  ") {
        return Err(NameProblem::Spacing);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_names_pass() {
        assert_eq!(check_persona_name("Dr Brown"), Ok(()));
        assert_eq!(check_persona_name("Morty Dr"), Ok(()));
    }

    #[test]
    fn refusals() {
        assert_eq!(check_persona_name("ab"), Err(NameProblem::TooShort));
        assert_eq!(
            check_persona_name("abcdefghijklm"),
            Err(NameProblem::TooLong)
        );
        assert_eq!(
            check_persona_name("Dr<Brown>"),
            Err(NameProblem::BadCharacter('<'))
        );
        assert_eq!(check_persona_name("Dr Brown "), Err(NameProblem::Spacing));
        assert_eq!(check_persona_name(" DrBrown"), Err(NameProblem::Spacing));
        assert_eq!(check_persona_name("Dr  Brown"), Err(NameProblem::Spacing));
        assert_eq!(
            check_persona_name("Dr\u{e9}Brown"),
            Err(NameProblem::BadCharacter('\u{e9}'))
        );
    }
}
