//! Deploying the platform bundle into the operator's AWS account (issue 13, being built): the
//! sizing tiers and the monthly cost estimate so far; preflight, plan, apply, validation,
//! upgrade and teardown come next, each with its own module, errors and operator-log actions.

pub mod cost;
