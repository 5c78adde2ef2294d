//! The wire layer: REST endpoints, the `/v1/Stream` transport, decoding of
//! incoming frames, and the connection state. No state of the model lives here.

pub mod connection;
pub mod endpoints;
pub mod frames;
pub mod media;
pub mod transport;
