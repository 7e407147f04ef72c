//! The README's tables of session ends and invitation refusals, and its
//! list of audit kinds, are what users and monitoring read: each is checked
//! here against the code, cell by cell, so that neither can change alone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use std::collections::BTreeSet;

use domain::{AuditKind, JoinRefusal, SessionEnd};

const README: &str = include_str!("../../../README.md");

/// The body rows of the first table after `heading`, each cell trimmed and
/// without the backticks of a code.
fn table_after(heading: &str) -> Vec<Vec<String>> {
    let (_, section) = README.split_once(heading).expect(heading);
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header and its underline
        .map(|row| {
            row.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn every_session_end_has_its_readme_row_with_the_same_message() {
    let rows = table_after("### Sessions");
    let documented: BTreeSet<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    let coded: BTreeSet<&str> = SessionEnd::ALL.iter().map(SessionEnd::code).collect();
    assert_eq!(documented, coded);
    assert_eq!(rows.len(), SessionEnd::ALL.len(), "one row per end");
    for row in &rows {
        let end = SessionEnd::from_code(&row[0]).unwrap();
        assert_eq!(end.message(), row[2], "{}", row[0]);
    }
}

#[test]
fn every_invitation_refusal_has_its_readme_status_page_and_message() {
    let rows = table_after("### Invitations");
    let documented: BTreeSet<&str> = rows.iter().map(|row| row[0].as_str()).collect();
    let all = JoinRefusal::all();
    let coded: BTreeSet<&str> = all.iter().map(JoinRefusal::code).collect();
    assert_eq!(documented, coded);
    assert_eq!(rows.len(), all.len(), "one row per refusal");
    for row in &rows {
        let refusal = JoinRefusal::from_code(&row[0]).unwrap();
        assert_eq!(refusal.http_status().to_string(), row[1], "{}", row[0]);
        assert_eq!(refusal.title(), row[2], "{}", row[0]);
        assert_eq!(refusal.message(), readme_message(&row[4]), "{}", row[0]);
    }
    // The one message with a part that varies: the session's end message.
    let ended = JoinRefusal::SessionEnded {
        reason: SessionEnd::HostTimeout.message().to_owned(),
    };
    assert_eq!(
        ended.message(),
        format!(
            "The session has ended, so no one can join it. {}",
            SessionEnd::HostTimeout.message()
        )
    );
}

/// A message cell as the code writes it: the italic note of what follows
/// is the empty reason of `JoinRefusal::all()`.
fn readme_message(cell: &str) -> String {
    match cell.split_once(" *") {
        Some((fixed, _)) => format!("{fixed} "),
        None => cell.to_owned(),
    }
}

#[test]
fn the_readme_lists_every_audit_kind_in_order() {
    let (_, after) = README.split_once("The\n  kinds:").unwrap();
    let (list, _) = after.split_once("Operators get 403").unwrap();
    let documented: Vec<&str> = list.split('`').skip(1).step_by(2).collect();
    let coded: Vec<&str> = AuditKind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(documented, coded);
}
