//! The public leaf checks, case by case; the entry checks run end to end in the CLI's tests
//! (`verify_names_the_first_bad_entry`, the export and restore tests).

use corridor_core::checkpoint::Checkpoint;
use corridor_core::entry::EntryHeader;
use corridor_core::merkle::MemoryTree;
use serde_json::{Value, json};

use super::*;

fn header(index: u64, second: u32) -> EntryHeader {
    EntryHeader {
        index,
        time: format!("2022-03-03T14:50:{second:02}.000000Z"),
        commitment: corridor_core::crypto::b64(&[index as u8; 32]),
    }
}

fn served(h: &EntryHeader) -> Value {
    json!({"leaf": h, "leaf_hash": corridor_core::crypto::b64(&h.leaf_hash())})
}

fn checkpoint(headers: &[EntryHeader]) -> Checkpoint {
    let mut t = MemoryTree::new();
    for h in headers {
        t.push(h.leaf_hash());
    }
    Checkpoint {
        origin: "corridor.test/log".into(),
        size: t.size(),
        root: t.root(),
    }
}

#[test]
fn an_honest_run_of_leaves_makes_the_root() {
    let headers: Vec<_> = (0..5).map(|i| header(i, i as u32)).collect();
    let mut c = LeafChain::new();
    for h in &headers {
        c.push(&served(h)).unwrap();
    }
    assert_eq!(c.size(), 5);
    c.check_root(&checkpoint(&headers)).unwrap();
    // A checkpoint of fewer or other leaves is not this run's.
    let err = c.check_root(&checkpoint(&headers[..4])).unwrap_err();
    assert!(matches!(err, Error::LeavesRoot { size: 4 }), "{err}");
}

#[test]
fn each_bad_leaf_is_named() {
    let cases: Vec<(Value, &str)> = vec![
        (served(&header(1, 1)), "says it is leaf 1"),
        (served(&header(0, 0)), ""),
        (
            {
                let mut v = served(&header(0, 0));
                v["leaf"]["actor"] = json!("ua/c");
                v
            },
            "not exactly index, time and commitment",
        ),
        (
            {
                let mut v = served(&header(0, 0));
                v["leaf_hash"] = json!(corridor_core::crypto::b64(&[0; 32]));
                v
            },
            "not the hash of the leaf",
        ),
        (
            {
                let mut h = header(0, 0);
                h.time = "2022-03-03T14:50:00Z".into();
                served(&h)
            },
            "fixed-width form",
        ),
    ];
    for (leaf, named) in cases {
        let mut c = LeafChain::new();
        match c.push(&leaf) {
            Ok(_) => assert!(named.is_empty(), "accepted {leaf}"),
            Err(e) => {
                assert!(e.to_string().contains(named) && !named.is_empty(), "{e}");
                assert_eq!(c.size(), 0, "a refused leaf is not taken");
            }
        }
    }
    // Times must strictly increase.
    let mut c = LeafChain::new();
    c.push(&served(&header(0, 5))).unwrap();
    let e = c.push(&served(&header(1, 5))).unwrap_err();
    assert!(e.to_string().starts_with("leaf 1: time"), "{e}");
}

#[test]
fn an_empty_page_is_an_empty_log() {
    let mut v = Verifier::new();
    assert!(matches!(v.page(&[]), Err(Error::Empty)));
    assert!(matches!(Verifier::new().finish(0), Err(Error::Empty)));
}
