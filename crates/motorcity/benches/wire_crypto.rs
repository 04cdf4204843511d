//! The per-login work of Motor City Online: the NPS codec on a 0x501, the
//! RSA step that opens the session key (the most expensive part of a
//! login), and the DES (lobby) and RC4 (MCOTS) ciphers over a typical
//! message.
//!
//! `cargo bench -p motorcity --bench wire_crypto`

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion};
use motorcity::crypto::{LobbyCipher, LoginKey, McotsCipher, SessionKey};
use motorcity::wire::login::{UserLogin, MCO_SERVICE_ID, USER_LOGIN_TRAILER};
use motorcity::wire::{NpsCodec, NpsMessage, DEFAULT_MAX_FRAME_LEN};
use tokio_util::codec::{Decoder, Encoder};

fn nps(c: &mut Criterion) {
    let key = LoginKey::generate().unwrap();
    let session = SessionKey::generate();
    let login = UserLogin {
        ticket: "0123456789ABCDEF0123456789ABCDEF".into(),
        reserved: 0,
        encrypted_session_key: key.public_key().encrypt_session_key(&session).unwrap(),
        service_id: MCO_SERVICE_ID.to_string(),
        trailer: Some(USER_LOGIN_TRAILER),
    };
    let frame = login.to_frame().unwrap();
    let mut wire = BytesMut::new();
    NpsCodec::client(DEFAULT_MAX_FRAME_LEN)
        .encode(frame.clone(), &mut wire)
        .unwrap();
    c.bench_function("nps/encode 0x501 frame", |b| {
        let mut codec = NpsCodec::client(DEFAULT_MAX_FRAME_LEN);
        b.iter(|| {
            let mut out = BytesMut::with_capacity(512);
            codec.encode(black_box(frame.clone()), &mut out).unwrap();
            out
        })
    });
    c.bench_function("nps/decode and parse 0x501", |b| {
        let mut codec = NpsCodec::server(DEFAULT_MAX_FRAME_LEN);
        b.iter(|| {
            let mut input = wire.clone();
            let frame = codec.decode(black_box(&mut input)).unwrap().unwrap();
            UserLogin::from_frame(&frame).unwrap()
        })
    });

    c.bench_function("rsa/decrypt session key (server, per login)", |b| {
        let ciphertext = &login.encrypted_session_key;
        b.iter(|| key.decrypt_session_key(black_box(ciphertext)).unwrap())
    });
    c.bench_function("rsa/encrypt session key (client)", |b| {
        let public = key.public_key();
        b.iter(|| public.encrypt_session_key(black_box(&session)).unwrap())
    });
}

fn ciphers(c: &mut Criterion) {
    let session = SessionKey::generate();
    let mut message = vec![0x5Au8; 256];
    c.bench_function("des/lobby cipher 256 bytes", |b| {
        let mut cipher = LobbyCipher::new(&session);
        b.iter(|| cipher.encrypt(black_box(&mut message)).unwrap())
    });
    c.bench_function("rc4/MCOTS cipher 256 bytes", |b| {
        let mut cipher = McotsCipher::new(&session);
        b.iter(|| cipher.apply(black_box(&mut message)))
    });
}

criterion_group!(benches, nps, ciphers);
criterion_main!(benches);
