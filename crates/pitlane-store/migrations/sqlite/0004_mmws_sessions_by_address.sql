-- EgoNet's login is tied to the latest live MMCOS Login from the same
-- client address (LoginService.Login carries no ticket we can read), so
-- sessions are looked up by address, newest first.

CREATE INDEX mm_sessions_client ON mm_sessions (client_addr, issued_at);
