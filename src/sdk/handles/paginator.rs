//! `Paginator<T>`: one page of a list plus the way to its neighbours, as in
//! Twilio's SDK. Moving returns a new paginator and leaves this one as it was;
//! each direction is a stored closure, so any list (REST URLs or keyset
//! message fetches) can be paged the same way.

use futures_util::future::BoxFuture;

use crate::sdk::error::{Error, Result};

/// Fetches a neighbouring page.
pub type Fetch<T> = Box<dyn Fn() -> BoxFuture<'static, Result<Paginator<T>>> + Send + Sync>;

/// One page of items. For messages, items are in ascending index order and
/// `prev_page` goes to older messages, `next_page` to newer ones, whichever
/// direction the first page was asked in. Search hits come newest first, with
/// `next_page` going to older hits.
pub struct Paginator<T> {
    /// The items of this page.
    pub items: Vec<T>,
    prev: Option<Fetch<T>>,
    next: Option<Fetch<T>>,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("items", &self.items)
            .field("has_prev_page", &self.has_prev_page())
            .field("has_next_page", &self.has_next_page())
            .finish()
    }
}

impl<T> Paginator<T> {
    pub(crate) fn new(items: Vec<T>, prev: Option<Fetch<T>>, next: Option<Fetch<T>>) -> Self {
        Self { items, prev, next }
    }

    /// The items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Whether a next page exists (for messages: newer ones).
    pub fn has_next_page(&self) -> bool {
        self.next.is_some()
    }

    /// Whether a previous page exists (for messages: older ones).
    pub fn has_prev_page(&self) -> bool {
        self.prev.is_some()
    }

    /// The next page; `Error::NoNextPage` ("No next page") on the last one.
    pub async fn next_page(&self) -> Result<Paginator<T>> {
        match &self.next {
            Some(fetch) => fetch().await,
            None => Err(Error::NoNextPage),
        }
    }

    /// The previous page; `Error::NoPreviousPage` ("No previous page") on the first.
    pub async fn prev_page(&self) -> Result<Paginator<T>> {
        match &self.prev {
            Some(fetch) => fetch().await,
            None => Err(Error::NoPreviousPage),
        }
    }
}
