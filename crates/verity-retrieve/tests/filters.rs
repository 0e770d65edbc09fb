//! Filters that let most of a large library through are applied after the BM25 search;
//! the hits must be the same as the index's own filtering would give.

use verity_index::{IndexDoc, LexicalIndex, TantivyIndex};
use verity_retrieve::Retriever;
use verity_store::{NewSource, SqliteStore, Store};
use verity_types::{
    DocMeta, Format, PassageId, PassageSpan, SearchFilters, SearchRequest, SourceId,
};

fn source(i: usize, text: &str, duplicate_of: Option<SourceId>) -> NewSource {
    NewSource {
        id: SourceId::new(format!("s{i:05}")),
        location: format!("notes/{i}.txt"),
        format: Format::Text,
        meta: DocMeta::default(),
        text: text.to_string(),
        passages: vec![PassageSpan::whole(text)],
        fingerprint: Vec::new(),
        duplicate_of,
        ingested_at: None,
    }
}

#[test]
fn a_filter_that_lets_most_through_still_leaves_out_what_it_should() {
    let store = SqliteStore::open_in_memory().unwrap();
    let lexical = TantivyIndex::open_in_ram().unwrap();
    // 2,500 sources (more than the post-filter threshold); the best match for the query
    // is a syndicated copy, which the filter must leave out.
    let mut items = vec![source(
        0,
        "Harbour harbour harbour: the Port Vellan harbour dues rise in May.",
        Some(SourceId::new("s00001")),
    )];
    for i in 1..2_500 {
        let text = if i % 50 == 0 {
            format!("Report {i} mentions the harbour dues once.")
        } else {
            format!("Report {i} is about the library's opening hours.")
        };
        items.push(source(i, &text, None));
    }
    store.put_sources(&items).unwrap();
    let ids: Vec<SourceId> = items.iter().map(|s| s.id.clone()).collect();
    store.mark_indexed(&ids).unwrap();
    let docs: Vec<IndexDoc<'_>> = items
        .iter()
        .map(|s| IndexDoc {
            id: PassageId {
                source: s.id.clone(),
                ordinal: 0,
            },
            text: s.passages[0].text(&s.text),
        })
        .collect();
    lexical.add(&docs).unwrap();
    lexical.commit().unwrap();

    let retriever = Retriever {
        store: &store,
        lexical: &lexical,
        dense: None,
        dense_weight: 1.0,
    };
    let mut req = SearchRequest::new("harbour dues", 5);
    let unfiltered = retriever.rank(&req).unwrap();
    assert_eq!(unfiltered[0].0.source, SourceId::new("s00000"));
    req.filters = SearchFilters {
        skip_duplicates: true,
        ..SearchFilters::default()
    };
    let filtered = retriever.rank(&req).unwrap();
    assert!(filtered
        .iter()
        .all(|(p, _)| p.source != SourceId::new("s00000")));
    // Every other harbour report is still found, in the unfiltered order.
    let expected: Vec<&PassageId> = unfiltered.iter().skip(1).map(|(p, _)| p).collect();
    let got: Vec<&PassageId> = filtered.iter().map(|(p, _)| p).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 49);
}
