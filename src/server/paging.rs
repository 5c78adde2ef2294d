//! Keyset paging for every list: `PageSize`/`Page`/`PageToken` in, Twilio's
//! envelope out. A token is `PA<key>` (items after key, in list order) or
//! `PB<key>` (items before it); each page is one indexed range scan with a
//! LIMIT, plus a one-row probe for the far side, so page cost never grows with
//! how deep the page lies (no OFFSET anywhere).

use crate::api::page::{Page, PageMeta, PageToken};
use crate::api::params::ListQuery;
use crate::server::error::{ApiError, ApiResult};

/// The highest `Page` accepted: Twilio's page numbers are 32-bit signed
/// integers; beyond it the request is refused (and `Page + 1` cannot overflow).
const MAX_PAGE: u32 = i32::MAX as u32;

/// A parsed page request for a list with the given default and maximum size.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub size: u32,
    pub page: u32,
    pub token: Option<PageToken>,
    /// The list runs in descending key order (Messages with `Order=desc`).
    pub desc: bool,
}

impl PageRequest {
    pub fn parse(q: &ListQuery, default: u32, max: u32, desc: bool) -> ApiResult<Self> {
        let size = match q.page_size.as_deref() {
            None | Some("") => default,
            Some(s) => match s.parse::<u64>() {
                // Twilio documents a maximum, and its clients ask for more when
                // they want "everything"; clamp rather than refuse.
                Ok(n) if n >= 1 => n.min(u64::from(max)) as u32,
                _ => return Err(ApiError::invalid("PageSize", "must be an integer of at least 1")),
            },
        };
        let page = match q.page.as_deref() {
            None | Some("") => 0,
            Some(s) => s
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= MAX_PAGE)
                .ok_or_else(|| ApiError::invalid("Page", "must be an integer from 0 to 2147483647"))?,
        };
        let token = match q.page_token.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                PageToken::parse(s)
                    .filter(|t| t.int_key().is_some())
                    .ok_or_else(|| ApiError::invalid("PageToken", "not a token this server issued"))?,
            ),
        };
        Ok(Self { size, page, token, desc })
    }
}

/// One range scan: keys strictly between `lo` and `hi`, ascending or not, at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lo: i64,
    pub hi: i64,
    pub descending: bool,
    pub limit: i64,
}

/// The items of one page, in list order, and whether pages lie either side.
pub struct Slice<T> {
    pub items: Vec<(i64, T)>,
    pub has_prev: bool,
    pub has_next: bool,
}

/// Runs the scans for `req`. `scan` returns `(key, item)` pairs of one window.
pub fn fetch<T, E>(req: &PageRequest, mut scan: impl FnMut(Window) -> Result<Vec<(i64, T)>, E>) -> Result<Slice<T>, E> {
    let n = i64::from(req.size);
    // Windows "after k" and "before k" in list order.
    let after = |k: i64, limit| {
        if req.desc {
            Window { lo: i64::MIN, hi: k, descending: true, limit }
        } else {
            Window { lo: k, hi: i64::MAX, descending: false, limit }
        }
    };
    let before = |k: i64, limit| {
        if req.desc {
            Window { lo: k, hi: i64::MAX, descending: false, limit }
        } else {
            Window { lo: i64::MIN, hi: k, descending: true, limit }
        }
    };
    match &req.token {
        Some(PageToken::Before(_)) => {
            let k = req.token.as_ref().and_then(PageToken::int_key).unwrap_or(0);
            let mut items = scan(before(k, n + 1))?;
            let has_prev = items.len() as i64 > n;
            items.truncate(n as usize);
            items.reverse();
            let has_next = match items.last() {
                Some((last, _)) => !scan(after(*last, 1))?.is_empty(),
                None => false,
            };
            Ok(Slice { items, has_prev, has_next })
        }
        token => {
            let start = token.as_ref().and_then(PageToken::int_key);
            let window = match start {
                Some(k) => after(k, n + 1),
                None if req.desc => Window { lo: i64::MIN, hi: i64::MAX, descending: true, limit: n + 1 },
                None => Window { lo: i64::MIN, hi: i64::MAX, descending: false, limit: n + 1 },
            };
            let mut items = scan(window)?;
            let has_next = items.len() as i64 > n;
            items.truncate(n as usize);
            let has_prev = match (start, items.first()) {
                (Some(_), Some((first, _))) => !scan(before(*first, 1))?.is_empty(),
                _ => false,
            };
            Ok(Slice { items, has_prev, has_next })
        }
    }
}

/// Builds Twilio's envelope around a slice. `path` is the absolute list URL
/// without a query; `filters` are the list's own query params, kept on every link.
pub fn envelope<T>(req: &PageRequest, slice: Slice<T>, path: &str, filters: &[(&str, String)], key: &str) -> Page<T> {
    let link = |page: u32, token: Option<String>| {
        let mut pairs: Vec<(&str, String)> = filters.to_vec();
        pairs.push(("PageSize", req.size.to_string()));
        pairs.push(("Page", page.to_string()));
        if let Some(t) = token {
            pairs.push(("PageToken", t));
        }
        let query = serde_html_form::to_string(&pairs).unwrap_or_default();
        format!("{path}?{query}")
    };
    let first_key = slice.items.first().map(|(k, _)| *k);
    let last_key = slice.items.last().map(|(k, _)| *k);
    let meta = PageMeta {
        page: req.page,
        page_size: req.size,
        first_page_url: link(0, None),
        previous_page_url: match (slice.has_prev, first_key) {
            (true, Some(k)) => {
                Some(link(req.page.saturating_sub(1), Some(PageToken::Before(k.to_string()).to_string())))
            }
            _ => None,
        },
        url: link(req.page, req.token.as_ref().map(ToString::to_string)),
        next_page_url: match (slice.has_next, last_key) {
            (true, Some(k)) => {
                Some(link(req.page.saturating_add(1), Some(PageToken::After(k.to_string()).to_string())))
            }
            _ => None,
        },
        key: key.to_owned(),
    };
    Page { items: slice.items.into_iter().map(|(_, item)| item).collect(), meta }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_of(keys: &[i64]) -> impl FnMut(Window) -> Result<Vec<(i64, i64)>, ()> + '_ {
        move |w: Window| {
            let mut v: Vec<(i64, i64)> = keys.iter().filter(|k| **k > w.lo && **k < w.hi).map(|k| (*k, *k)).collect();
            if w.descending {
                v.reverse();
            }
            v.truncate(w.limit as usize);
            Ok(v)
        }
    }

    fn req(size: u32, token: Option<&str>, desc: bool) -> PageRequest {
        PageRequest { size, page: 0, token: token.and_then(PageToken::parse), desc }
    }

    #[test]
    fn pages_walk_both_ways_over_gaps() {
        let keys = [0, 1, 2, 4, 7, 8, 9];
        let s = fetch(&req(3, None, false), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(s.has_next && !s.has_prev);
        let s = fetch(&req(3, Some("PA2"), false), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [4, 7, 8]);
        assert!(s.has_next && s.has_prev);
        let s = fetch(&req(3, Some("PB4"), false), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(s.has_next && !s.has_prev);
        let s = fetch(&req(3, None, true), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [9, 8, 7]);
        let s = fetch(&req(3, Some("PA7"), true), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [4, 2, 1]);
        assert!(s.has_next && s.has_prev);
        let s = fetch(&req(3, Some("PB1"), true), scan_of(&keys)).unwrap();
        assert_eq!(s.items.iter().map(|i| i.0).collect::<Vec<_>>(), [7, 4, 2]);
        assert!(s.has_next && s.has_prev);
    }

    #[test]
    fn page_size_is_validated_and_clamped() {
        let q = |s: &str| ListQuery { page_size: Some(s.into()), ..Default::default() };
        assert_eq!(PageRequest::parse(&q("500"), 50, 100, false).unwrap().size, 100);
        assert_eq!(PageRequest::parse(&q("0"), 50, 100, false).unwrap_err().code(), 20001);
        assert_eq!(PageRequest::parse(&q("x"), 50, 100, false).unwrap_err().code(), 20001);
    }

    #[test]
    fn page_is_bounded_as_twilio_bounds_it() {
        let q = |s: &str| ListQuery { page: Some(s.into()), ..Default::default() };
        assert_eq!(PageRequest::parse(&q("2147483647"), 50, 100, false).unwrap().page, 2147483647);
        for bad in ["2147483648", "4294967295", "4294967296", "-1"] {
            let e = PageRequest::parse(&q(bad), 50, 100, false).unwrap_err();
            assert_eq!(e.code(), 20001, "{bad}");
        }
    }
}
