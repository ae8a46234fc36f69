//! newsflow-feeds: follows the news by itself.
//!
//! The followed feeds live in PostgreSQL (`newsflow_store`'s feed tables). The follower
//! ([`follow`]) polls each feed when it is due, with its ETag and Last-Modified ([`fetch`]: a
//! polite client that honours robots.txt, spaces requests to a host and bounds every response),
//! reads the items it lists ([`feed`]: RSS 2.0, Atom, JSON Feed), fetches each new item's page,
//! keeps its main text (`newsflow_article::page`) and submits it to ingest over gRPC, so it
//! passes the same validation, ids and dedup as any article. Feeds are managed over gRPC and
//! HTTP ([`manage`]); [`service`] runs it all, configured by [`config`].
//!
//! A service of its own rather than a part of ingest: it is the only part of newsflow that
//! reaches outside addresses (a network policy can let it alone out), its work is waiting on
//! slow hosts rather than serving clients, and its state (feeds, items seen) is not ingest's.

pub mod config;
pub mod feed;
pub mod fetch;
pub mod follow;
pub mod manage;
pub mod service;
