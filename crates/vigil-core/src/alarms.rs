//! Alarms: the platform's CloudWatch metric and composite alarms for the current environment,
//! grouped by platform component, and one alarm's history. Reads only.

use crate::app::area;
use crate::aws::{self, cloudwatch};
use crate::error::{Error, Result};

area!(
    /// The alarms area (`app.alarms()`).
    Alarms
);

impl Alarms<'_> {
    /// The current environment's alarms, grouped by platform component; `state` (OK, ALARM,
    /// INSUFFICIENT_DATA) filters.
    pub async fn list(&self, state: Option<&str>) -> Result<Vec<vigil_dto::AlarmInfo>> {
        if let Some(s) = state {
            if !cloudwatch::STATES.contains(&s) {
                return Err(Error::validation("state", format!("`{s}` is not an alarm state; use OK, ALARM or INSUFFICIENT_DATA")));
            }
        }
        let env = self.current().await?;
        let cw = cloudwatch::CloudWatch::new(&self.aws_context(&env).await, &aws::new_op_id());
        Ok(cloudwatch::describe_alarms(&cw, state, &env.name).await?)
    }

    /// One alarm's history, newest first, at most `limit` entries.
    pub async fn history(&self, name: &str, limit: usize) -> Result<Vec<vigil_dto::AlarmHistoryEntry>> {
        let env = self.current().await?;
        let cw = cloudwatch::CloudWatch::new(&self.aws_context(&env).await, &aws::new_op_id());
        Ok(cloudwatch::alarm_history(&cw, name, limit).await?)
    }
}
