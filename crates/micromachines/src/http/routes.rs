//! The route table. The client uses `/MMCOS/<Service>/...` in its shipping
//! configuration and the same paths without `/MMCOS` in Localhost mode;
//! IIS matched paths case-insensitively. Paths are unique across the three
//! host names, so routing ignores `Host` (LAN players may use an IP).
//! EgoNet has one path for every function (the function travels in a
//! header); it is also matched without its trailing slash.

use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `redirect_steam_submission{1,2,3}.txt` on the CDN host.
    CdnRedirect,
    ServerStatus,
    Login,
    UpdateAccountTitle,
    GetElite,
    GetFriends,
    GetEliteRank,
    EnterMatchmaking2,
    CancelMatchmaking,
    RegisterActiveGameWithPlayers,
    RegisterServer,
    GetGames,
    DebugMessage,
    AddPoints,
    /// `POST /MicroMachines/STEAM/1.0/` on the EgoNet host (see `egonet`).
    EgoNet,
}

/// Path (lower case, without `/MMCOS`) → operation. Read it as the table of
/// contents of the service.
const ROUTES: &[(&str, Operation)] = &[
    ("/redirect_steam_submission1.txt", Operation::CdnRedirect),
    ("/redirect_steam_submission2.txt", Operation::CdnRedirect),
    ("/redirect_steam_submission3.txt", Operation::CdnRedirect),
    (
        "/mmcos-serverstatus/serverstatus.xml",
        Operation::ServerStatus,
    ),
    ("/mmcos-account/accountservice.svc/login", Operation::Login),
    (
        "/mmcos-account/accountservice.svc/updateaccounttitle",
        Operation::UpdateAccountTitle,
    ),
    (
        "/mmcos-leaderboard/leaderboardservice.svc/getelite",
        Operation::GetElite,
    ),
    (
        "/mmcos-leaderboard/leaderboardservice.svc/getfriends",
        Operation::GetFriends,
    ),
    (
        "/mmcos-leaderboard/leaderboardservice.svc/geteliterank",
        Operation::GetEliteRank,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/entermatchmaking2",
        Operation::EnterMatchmaking2,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/cancelmatchmaking",
        Operation::CancelMatchmaking,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/registeractivegamewithplayers",
        Operation::RegisterActiveGameWithPlayers,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/registerserver",
        Operation::RegisterServer,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/getgames",
        Operation::GetGames,
    ),
    (
        "/mmcos-matchmaking/matchmakingservice.svc/debugmessage",
        Operation::DebugMessage,
    ),
    (
        "/mmcos-gameprogression/gameprogressionservice.svc/addpoints",
        Operation::AddPoints,
    ),
    ("/micromachines/steam/1.0/", Operation::EgoNet),
    ("/micromachines/steam/1.0", Operation::EgoNet),
];

impl Operation {
    pub fn method(self) -> Method {
        match self {
            Operation::CdnRedirect | Operation::ServerStatus => Method::GET,
            _ => Method::POST,
        }
    }

    /// Root element of the client's request body.
    pub fn request_root(self) -> &'static str {
        match self {
            Operation::CdnRedirect | Operation::ServerStatus => "",
            _ => self.name(),
        }
    }

    /// Operations whose request shape was never captured: any body within
    /// the limits is accepted and logged so its shape can be learnt.
    pub fn shape_unknown(self) -> bool {
        matches!(
            self,
            Operation::RegisterServer | Operation::GetGames | Operation::DebugMessage
        )
    }

    /// Root element of the result, also used for error documents; void
    /// operations have no result type, so their errors use `ErrorResult`.
    pub fn result_root(self) -> &'static str {
        match self {
            Operation::Login => "LoginDetails",
            Operation::GetElite | Operation::GetFriends | Operation::GetEliteRank => {
                "LeaderboardEntries"
            }
            Operation::EnterMatchmaking2 => "MatchmakingResult",
            Operation::AddPoints => "AddPointsResult",
            _ => "ErrorResult",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::CdnRedirect => "CdnRedirect",
            Operation::ServerStatus => "ServerStatus",
            Operation::Login => "Login",
            Operation::UpdateAccountTitle => "UpdateAccountTitle",
            Operation::GetElite => "GetElite",
            Operation::GetFriends => "GetFriends",
            Operation::GetEliteRank => "GetEliteRank",
            Operation::EnterMatchmaking2 => "EnterMatchmaking2",
            Operation::CancelMatchmaking => "CancelMatchmaking",
            Operation::RegisterActiveGameWithPlayers => "RegisterActiveGameWithPlayers",
            Operation::RegisterServer => "RegisterServer",
            Operation::GetGames => "GetGames",
            Operation::DebugMessage => "DebugMessage",
            Operation::AddPoints => "AddPoints",
            Operation::EgoNet => "EgoNet",
        }
    }
}

pub fn route(path: &str) -> Option<Operation> {
    let lower = path.to_ascii_lowercase();
    let local = match lower.strip_prefix("/mmcos") {
        Some(rest) if rest.starts_with('/') => rest,
        _ => lower.as_str(),
    };
    ROUTES.iter().find(|(p, _)| *p == local).map(|(_, op)| *op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_path_forms_and_any_case_route() {
        for path in [
            "/MMCOS/MMCOS-Account/AccountService.svc/Login",
            "/MMCOS-Account/AccountService.svc/Login",
            "/mmcos/mmcos-account/accountservice.svc/LOGIN",
        ] {
            assert_eq!(route(path), Some(Operation::Login), "{path}");
        }
        assert_eq!(
            route("/MMCOS/redirect_steam_submission3.txt"),
            Some(Operation::CdnRedirect)
        );
        assert_eq!(
            route("/MMCOS-ServerStatus/ServerStatus.xml"),
            Some(Operation::ServerStatus)
        );
        assert_eq!(
            route("/MMCOSX/MMCOS-Account/AccountService.svc/Login"),
            None
        );
        assert_eq!(route("/"), None);
        for path in [
            "/MicroMachines/STEAM/1.0/",
            "/MicroMachines/STEAM/1.0",
            "/micromachines/steam/1.0/",
        ] {
            assert_eq!(route(path), Some(Operation::EgoNet), "{path}");
        }
        assert_eq!(route("/MicroMachines/STEAM/1.1/"), None);
        assert_eq!(route("/MicroMachines/STEAM/1.0//"), None);
        assert_eq!(route("/MMCOS/MMCOS-Account/AccountService.svc/Nope"), None);
    }
}
