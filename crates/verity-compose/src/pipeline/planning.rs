//! Stage 1, plan: the plan of the brief and the term sets the later stages match against.

use std::collections::BTreeSet;

use verity_types::{Mode, Plan, Progress};

use crate::error::ComposeError;
use crate::topic::{self, Subject};
use crate::{plan, text, BriefRequest};

/// What the plan stage hands on.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub plan: Plan,
    /// The hypothesis's terms.
    pub hyp_terms: BTreeSet<String>,
    /// The terms of the entities the input names.
    pub named: BTreeSet<String>,
    /// The claim's subject, for the topic gate (claim mode only).
    pub subject: Option<Subject>,
}

/// Plans the brief for `req`.
pub(crate) fn run(req: &BriefRequest, progress: &dyn Progress) -> Result<Planned, ComposeError> {
    progress.stage("plan", None);
    let plan = plan::plan(&req.input, req.mode)?;
    let hyp_terms = text::term_set(&plan.hypothesis);
    let named: BTreeSet<String> = plan
        .entities
        .iter()
        .flat_map(|e| text::term_set(e))
        .collect();
    let subject = (plan.mode == Mode::Check)
        .then(|| topic::subject(&plan))
        .flatten();
    Ok(Planned {
        plan,
        hyp_terms,
        named,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use verity_types::NoProgress;

    use super::*;

    fn request(input: &str, mode: Mode) -> BriefRequest {
        BriefRequest::new(input, mode, NaiveDate::from_ymd_opt(2025, 3, 1).unwrap())
    }

    #[test]
    fn a_claim_gets_its_terms_and_a_subject() {
        let req = request(
            "Fact check: The Tarrow Valley Water Board closed the Ashby reservoir in 2019.",
            Mode::Ask,
        );
        let p = run(&req, &NoProgress).unwrap();
        assert_eq!(p.plan.mode, Mode::Check);
        assert!(p.hyp_terms.contains("reservoir"), "{:?}", p.hyp_terms);
        assert!(p.named.contains("tarrow"), "{:?}", p.named);
        assert!(!p.named.contains("reservoir"), "{:?}", p.named);
        assert!(p.subject.is_some());
    }

    #[test]
    fn a_question_has_no_subject_gate() {
        let req = request("Why did the Ashby reservoir close?", Mode::Ask);
        let p = run(&req, &NoProgress).unwrap();
        assert_eq!(p.plan.mode, Mode::Ask);
        assert!(p.subject.is_none());
        assert!(p.hyp_terms.contains("reservoir"));
    }

    #[test]
    fn empty_input_is_an_error() {
        let req = request("  ?? ", Mode::Ask);
        assert!(matches!(
            run(&req, &NoProgress),
            Err(ComposeError::EmptyInput)
        ));
    }
}
