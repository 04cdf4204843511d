//! The player's identity: the SteamID64 inside the Steam session ticket the
//! client sends as `PlatformID` (hex, then the literal `^^^^true`).
//!
//! Layout (GetAuthSessionTicket): u32 LE 20, 8-byte GC token, u64 LE
//! SteamID64 at offset 12, ... The SteamID is read without asking Steam, so
//! it is as trustworthy as the client: a community server cannot verify the
//! ticket's signature without Steam's publisher API.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("PlatformID is not hexadecimal")]
    NotHex,
    #[error("the Steam ticket is {0} bytes, too short to hold a SteamID (needs 20)")]
    TooShort(usize),
    #[error(
        "the Steam ticket holds {0}, which is not the SteamID of an individual public account"
    )]
    NotAnIndividual(u64),
}

const STEAMID_OFFSET: usize = 12;

/// Extracts the SteamID64 from the `PlatformID` text of a Login.
pub fn steam_id_from_platform_id(platform_id: &str) -> Result<u64, TicketError> {
    let hex = platform_id.split('^').next().unwrap_or_default().trim();
    let bytes = decode_hex(hex)?;
    let raw: [u8; 8] = bytes
        .get(STEAMID_OFFSET..STEAMID_OFFSET + 8)
        .and_then(|s| s.try_into().ok())
        .ok_or(TicketError::TooShort(bytes.len()))?;
    let id = u64::from_le_bytes(raw);
    // Universe 1 (public) in the top byte, account type 1 (individual) in
    // the next nibble: anything else is not a player.
    if id >> 56 != 1 || (id >> 52) & 0xF != 1 || id & 0xFFFF_FFFF == 0 {
        return Err(TicketError::NotAnIndividual(id));
    }
    Ok(id)
}

fn decode_hex(text: &str) -> Result<Vec<u8>, TicketError> {
    if !text.len().is_multiple_of(2) {
        return Err(TicketError::NotHex);
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16).ok_or(TicketError::NotHex)?;
            let lo = (pair[1] as char).to_digit(16).ok_or(TicketError::NotHex)?;
            Ok((hi * 16 + lo) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = "14000000ae000f6c42a8b54e84de330701001001d0da5865180000000100000002000000ce24c140c5817a4874864f0109000000b2000000320000000400000084de3307010010012a2d0800f41de305cc05981a00000000d6594f6556096b650100fdfc010000000000c3ae92fbf542a9dba7279942c0c27d51b0debfc17c456f6567d75d1802cb8d9b636e9de736783c7344e280d816b96964eced79aeb412fa9ab84a67087a3bd0dd2d4afc37ba39020dd9d3d2a5467fd7219af4c9d499f8ee803a637fb3d41d7a49fdf4feb6d34dab9d386cf231b03f01ada60a738c4d0c91b1829e71038425dd65^^^^true";

    #[test]
    fn captured_ticket_yields_the_captured_steam_id() {
        assert_eq!(steam_id_from_platform_id(CAPTURED), Ok(76561198081105540));
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert_eq!(
            steam_id_from_platform_id("zz^^^^true"),
            Err(TicketError::NotHex)
        );
        assert_eq!(steam_id_from_platform_id("abc"), Err(TicketError::NotHex));
        assert_eq!(
            steam_id_from_platform_id("1400"),
            Err(TicketError::TooShort(2))
        );
        assert_eq!(steam_id_from_platform_id(""), Err(TicketError::TooShort(0)));
        let zeros = "00".repeat(40);
        assert_eq!(
            steam_id_from_platform_id(&zeros),
            Err(TicketError::NotAnIndividual(0))
        );
        assert_eq!(
            steam_id_from_platform_id("é".repeat(30).as_str()),
            Err(TicketError::NotHex)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_individual_steam_id_is_read_back(account in 1u32.., instance in 0u32..16) {
            let id = (1u64 << 56) | (1u64 << 52) | (u64::from(instance) << 32) | u64::from(account);
            let mut bytes = vec![0u8; 12];
            bytes[0] = 20;
            bytes.extend_from_slice(&id.to_le_bytes());
            bytes.extend_from_slice(&[0u8; 8]);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            proptest::prop_assert_eq!(steam_id_from_platform_id(&format!("{hex}^^^^true")), Ok(id));
        }

        #[test]
        fn never_panics(text in ".{0,300}") {
            let _ = steam_id_from_platform_id(&text);
        }
    }
}
