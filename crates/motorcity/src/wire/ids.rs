//! NPS message ids used by the login and persona servers (spec §5.1, §5.2).

/// 0x501 NPS_USER_LOGIN: ticket + RSA-encrypted session key.
pub const USER_LOGIN: u16 = 0x0501;
/// 0x503 NPS_REGISTER_GAME_LOGIN: select a persona.
pub const REGISTER_GAME_LOGIN: u16 = 0x0503;
/// 0x507 NPS_NEW_GAME_ACCOUNT: create a persona (community; no capture).
pub const NEW_GAME_ACCOUNT: u16 = 0x0507;
/// 0x50f NPS_REGISTER_GAME_LOGOUT: same body as 0x503.
pub const REGISTER_GAME_LOGOUT: u16 = 0x050f;
/// 0x512 NPS_DELETE_GAME_PERSONA (community; no capture).
pub const DELETE_GAME_PERSONA: u16 = 0x0512;
/// 0x532 NPS_GET_PERSONA_MAPS: list the customer's personas.
pub const GET_PERSONA_MAPS: u16 = 0x0532;
/// 0x533 NPS_VALIDATE_PERSONA_NAME.
pub const VALIDATE_PERSONA_NAME: u16 = 0x0533;
/// 0x534 NPS_CHECK_TOKEN, used by the client as a licence-plate text check.
pub const CHECK_TOKEN: u16 = 0x0534;

/// 0x601 NPS_USER_VALID: login accepted (also "name free" for 0x533).
pub const USER_VALID: u16 = 0x0601;
/// 0x602: the community's login error reply.
pub const USER_INVALID: u16 = 0x0602;
/// 0x607: persona maps reply.
pub const PERSONA_MAPS: u16 = 0x0607;
/// 0x207 NPS_ACK.
pub const ACK: u16 = 0x0207;
/// 0x20a NPS_DUP_USER: name already taken.
pub const DUP_USER: u16 = 0x020a;
/// 0x60c NPS_USER_DELETED: persona deleted (named in the NPS opcode list;
/// never seen on the wire).
pub const USER_DELETED: u16 = 0x060c;
/// 0x624 NPS_PERSONA_DELETION_DENY (NPS opcode list; never seen on the wire).
pub const PERSONA_DELETION_DENY: u16 = 0x0624;
/// 0x640 NPS_SHARD_PERSONA_LIMIT_REACHED (NPS opcode list; never seen on
/// the wire).
pub const SHARD_PERSONA_LIMIT_REACHED: u16 = 0x0640;
