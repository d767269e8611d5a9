//! The AWS Price List Query API, for a deploy's cost estimate: the on-demand price dimensions of
//! the products matching a set of attribute filters. The API is served from a few regions only;
//! the client asks the one nearest the environment's region (prices are per product location,
//! given as the `regionCode` filter, not per endpoint).

use crate::error::AwsError;
use std::collections::BTreeMap;

/// Products read per query at most (100 per page): a query that matches more is too broad.
const MAX_PAGES: usize = 10;

/// One on-demand price dimension of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct OnDemand {
    pub sku: String,
    /// The product's `usagetype` ("BoxUsage:m7i.large", "EUW1-InstanceUsage:db.r6g.large").
    pub usage_type: String,
    /// The dimension's unit ("Hrs", "GB-Mo", …).
    pub unit: String,
    pub usd: f64,
    pub attributes: BTreeMap<String, String>,
}

/// The Price List Query API region that serves `region`'s callers best.
pub fn endpoint_region(region: &str) -> &'static str {
    match region.split('-').next() {
        Some("eu" | "me" | "af" | "il") => "eu-central-1",
        Some("ap") => "ap-south-1",
        _ => "us-east-1",
    }
}

service_client!(
    /// The Price List Query API for one operation of one environment.
    Pricing,
    aws_sdk_pricing,
    |builder, ctx| builder.region(aws_types::region::Region::new(endpoint_region(&ctx.target().region)))
);

impl Pricing {
    /// The on-demand price dimensions of every product of `service_code` matching all `filters`
    /// (attribute, value) exactly.
    pub async fn on_demand(&self, service_code: &str, filters: &[(&str, &str)]) -> Result<Vec<OnDemand>, AwsError> {
        use aws_sdk_pricing::types::{Filter, FilterType};
        let mut filter_list = vec![];
        for (field, value) in filters {
            let f = Filter::builder().r#type(FilterType::TermMatch).field(*field).value(*value).build();
            filter_list.push(f.map_err(|e| AwsError::new(crate::Kind::Validation, format!("price filter {field}: {e}"), "this is a bug in Vigil"))?);
        }
        let mut out = vec![];
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let req = self
                .client
                .get_products()
                .service_code(service_code)
                .format_version("aws_v1")
                .max_results(100)
                .set_filters(Some(filter_list.clone()))
                .set_next_token(token.take());
            let page = match req.send().await {
                Ok(p) => p,
                Err(e) => return Err(crate::error::classify(&self.ctx, "pricing", "GetProducts", &e).await),
            };
            for item in page.price_list() {
                out.extend(parse_product(item).map_err(|why| {
                    AwsError::new(
                        crate::Kind::Service,
                        format!("pricing:GetProducts answered a product Vigil cannot read: {why}"),
                        "try again later; the estimate uses the bundle's price snapshot meanwhile",
                    )
                })?);
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
        Err(AwsError::new(
            crate::Kind::Validation,
            format!("pricing:GetProducts matched more than {} {service_code} products", MAX_PAGES * 100),
            "this is a bug in Vigil's price query",
        ))
    }
}

/// The on-demand price dimensions of one Price List product document (aws_v1 format).
pub fn parse_product(json: &str) -> Result<Vec<OnDemand>, String> {
    let doc: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let product = doc.get("product").ok_or("no product")?;
    let sku = product.get("sku").and_then(|s| s.as_str()).ok_or("no sku")?.to_string();
    let attributes: BTreeMap<String, String> = product
        .get("attributes")
        .and_then(|a| a.as_object())
        .map(|a| a.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default();
    let usage_type = attributes.get("usagetype").cloned().unwrap_or_default();
    let mut out = vec![];
    let terms = doc.pointer("/terms/OnDemand").and_then(|t| t.as_object());
    for term in terms.into_iter().flat_map(|t| t.values()) {
        let dims = term.get("priceDimensions").and_then(|d| d.as_object());
        for dim in dims.into_iter().flat_map(|d| d.values()) {
            let Some(usd) = dim.pointer("/pricePerUnit/USD").and_then(|p| p.as_str()) else { continue };
            let usd: f64 = usd.parse().map_err(|_| format!("price {usd:?} of {sku} is not a number"))?;
            let unit = dim.get("unit").and_then(|u| u.as_str()).unwrap_or_default().to_string();
            out.push(OnDemand { sku: sku.clone(), usage_type: usage_type.clone(), unit, usd, attributes: attributes.clone() });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_pricing::operation::get_products::{GetProductsError, GetProductsOutput};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn product(sku: &str, instance: &str, usage: &str, usd: &str) -> String {
        serde_json::json!({
            "product": { "productFamily": "Compute Instance", "sku": sku,
                "attributes": { "instanceType": instance, "usagetype": usage, "regionCode": "eu-west-1" } },
            "serviceCode": "AmazonEC2",
            "terms": {
                "OnDemand": { format!("{sku}.JRTCKXETXF"): { "sku": sku, "priceDimensions": {
                    format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): { "unit": "Hrs", "pricePerUnit": { "USD": usd }, "description": "per hour" } } } },
                "Reserved": { format!("{sku}.4NA7Y494T4"): { "priceDimensions": {
                    format!("{sku}.4NA7Y494T4.2TG2D8R56U"): { "unit": "Quantity", "pricePerUnit": { "USD": "1500" } } } } }
            },
            "publicationDate": "2026-11-20T00:00:00Z"
        })
        .to_string()
    }

    #[test]
    fn a_products_on_demand_dimensions_are_read_and_its_reserved_terms_left_out() {
        let p = parse_product(&product("SKU1", "m7i.large", "EU-BoxUsage:m7i.large", "0.1120000000")).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].sku.as_str(), p[0].unit.as_str(), p[0].usd, p[0].usage_type.as_str()), ("SKU1", "Hrs", 0.112, "EU-BoxUsage:m7i.large"));
        assert_eq!(p[0].attributes["instanceType"], "m7i.large");
        assert!(parse_product("{\"product\":{}}").unwrap_err().contains("sku"));
        assert!(parse_product(&product("SKU2", "m7i.large", "x", "free")).unwrap_err().contains("not a number"));
    }

    #[test]
    fn the_endpoint_is_the_nearest_region_that_serves_the_api() {
        assert_eq!(endpoint_region("eu-west-3"), "eu-central-1");
        assert_eq!(endpoint_region("ap-southeast-2"), "ap-south-1");
        assert_eq!(endpoint_region("us-west-2"), "us-east-1");
        assert_eq!(endpoint_region("ca-central-1"), "us-east-1");
    }

    #[tokio::test]
    async fn every_page_is_read_with_the_filters_as_term_matches() {
        let ctx = crate::testing::context().await;
        let first = mock!(aws_sdk_pricing::Client::get_products)
            .match_requests(|r| {
                r.next_token().is_none()
                    && r.service_code() == Some("AmazonEC2")
                    && r.filters().iter().any(|f| {
                        f.field() == "instanceType" && f.value() == "m7i.large" && f.r#type() == &aws_sdk_pricing::types::FilterType::TermMatch
                    })
            })
            .then_output(|| {
                GetProductsOutput::builder().price_list(product("A", "m7i.large", "EU-BoxUsage:m7i.large", "0.112")).next_token("page2").build()
            });
        let second = mock!(aws_sdk_pricing::Client::get_products)
            .match_requests(|r| r.next_token() == Some("page2"))
            .then_output(|| GetProductsOutput::builder().price_list(product("B", "m7i.large", "EU-DedicatedUsage:m7i.large", "0.123")).build());
        let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&first, &second]);
        let got = Pricing::with_client(&ctx, client).on_demand("AmazonEC2", &[("instanceType", "m7i.large")]).await.unwrap();
        assert_eq!(got.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_throttled_denied_unavailable_or_expired_query_is_classified() {
        let ctx = crate::testing::context().await;
        for (code, kind) in [
            ("ThrottlingException", crate::Kind::Throttled),
            ("AccessDeniedException", crate::Kind::AccessDenied),
            ("ServiceUnavailableException", crate::Kind::Unavailable),
            ("ExpiredTokenException", crate::Kind::ExpiredCredentials),
        ] {
            // Every attempt (retries included) gets the same answer.
            let rule = mock!(aws_sdk_pricing::Client::get_products)
                .sequence()
                .error(move || GetProductsError::generic(aws_smithy_types::error::ErrorMetadata::builder().code(code).message("no").build()))
                .repeatedly()
                .build();
            let client = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&rule]);
            let e = Pricing::with_client(&ctx, client).on_demand("AmazonRDS", &[]).await.unwrap_err();
            assert_eq!(e.kind, kind, "{code}: {e:?}");
            assert!(e.message.contains("pricing:GetProducts"), "{e:?}");
        }
    }
}
