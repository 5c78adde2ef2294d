//! Durability and concurrency: data survives a restart and a kill -9 of the
//! real binary; concurrent senders never share a message index.
