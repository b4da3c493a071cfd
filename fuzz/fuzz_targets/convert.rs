//! Arbitrary bytes as a `<vmid>.conf`, converted three ways: the current configuration, with
//! `[PENDING]` applied, and the first snapshot section. Besides "no panic", every outcome is
//! checked the way a pipeline would use it: errors render (miette draws spans into the text, so a
//! bad span would panic there), and a successful conversion is well-formed XML with one root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pve2virt::{convert_bytes, report, Options, Selection};

fuzz_target!(|data: &[u8]| {
    let snapshot = std::str::from_utf8(data).ok().and_then(first_snapshot);
    let mut selections = vec![Selection::Current, Selection::Pending];
    selections.push(Selection::Snapshot(snapshot.unwrap_or_else(|| "snap".to_owned())));
    for selection in selections {
        let opts = Options { vmid: Some(100), selection, ..Options::default() };
        let (source, result) = convert_bytes("fuzz.conf", data, &opts);
        match result {
            Ok(conversion) => {
                assert!(conversion.notes.iter().all(|n| !n.is_error()), "an error note in a successful conversion");
                check_xml(&conversion.xml);
                let _ = report::render_human(&conversion.notes, &source, false);
                let _ = report::to_json(&conversion.notes, &source);
            }
            Err(notes) => {
                assert!(notes.iter().any(|n| n.is_error()), "a failed conversion without an error: {notes:?}");
                let _ = report::render_human(&notes, &source, false);
                let _ = report::to_json(&notes, &source);
            }
        }
    }
});

/// The name of the first `[name]` header that is neither PENDING nor special.
fn first_snapshot(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let name = l.strip_prefix('[')?.trim_end().strip_suffix(']')?;
        (!name.eq_ignore_ascii_case("pending") && !name.starts_with("special:")).then(|| name.to_owned())
    })
}

/// Well-formed, with exactly one top-level `<domain>` element: anything a value could inject
/// would show up as a parse error or a second root.
fn check_xml(xml: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().as_ref(), b"domain");
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Empty(_)) => assert!(depth > 0, "an empty element outside <domain>"),
            Ok(Event::Text(t)) => {
                t.decode().expect("text decodes");
                assert!(depth > 0 || t.iter().all(u8::is_ascii_whitespace), "text outside <domain>");
            }
            // Only XML's own five entities and character references: anything else is undefined.
            Ok(Event::GeneralRef(r)) => {
                let known = matches!(r.as_ref(), b"lt" | b"gt" | b"amp" | b"apos" | b"quot");
                assert!(known || r.resolve_char_ref().is_ok_and(|c| c.is_some()), "entity &{:?};", r);
            }
            Ok(Event::Eof) => break,
            Ok(Event::CData(_)) | Ok(Event::Comment(_)) | Ok(Event::PI(_)) | Ok(Event::DocType(_)) => {
                panic!("the writer emits no CDATA, comments, PIs or DOCTYPE:\n{xml}")
            }
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0);
    assert_eq!(roots, 1, "one root element");
}
