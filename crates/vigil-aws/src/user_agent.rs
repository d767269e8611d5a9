//! The User-Agent correlation: `vigil/<version> vigil-op/<operation id>` on every request.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Appends Vigil's product token and the operation id to the User-Agent header. User-Agent is
/// not part of the SigV4 signature, so changing it after signing is safe.
#[derive(Debug, Clone)]
pub struct VigilUserAgent {
    suffix: String,
}

impl VigilUserAgent {
    pub fn new(op_id: &str) -> Self {
        VigilUserAgent { suffix: format!("vigil/{} vigil-op/{op_id}", env!("CARGO_PKG_VERSION")) }
    }
}

impl Intercept for VigilUserAgent {
    fn name(&self) -> &'static str {
        "VigilUserAgent"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        let ua = match headers.get("user-agent") {
            Some(existing) => format!("{existing} {}", self.suffix),
            None => self.suffix.clone(),
        };
        headers.insert("user-agent", ua);
        Ok(())
    }
}
