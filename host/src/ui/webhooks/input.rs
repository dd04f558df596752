//! The webhook form's fields turned into the API's own
//! [`WebhookInput`](crate::http::webhooks::WebhookInput), which checks
//! them as it checks an API request. What cannot even be read (a number
//! that is not one, a header line without a colon) is refused here, per
//! field.

use super::errors::FieldErrors;
use super::fields::WebhookForm;
use crate::domain::webhook::{BatchMode, Conditions, WebhookMethod, WebhookSettings};
use crate::http::webhooks::WebhookInput;

impl WebhookForm {
    /// The API input these fields stand for, over `current` (an edit's
    /// stored settings, whose credentials an empty field keeps); what
    /// cannot even be read is refused per field.
    pub(super) fn to_input(
        &self,
        current: Option<&WebhookSettings>,
    ) -> Result<WebhookInput, FieldErrors> {
        let mut errors = FieldErrors::default();
        let number = |errors: &mut FieldErrors, field: &'static str, text: &str, what: &str| {
            let text = text.trim();
            match text.parse::<u64>() {
                Ok(number) => Some(number),
                Err(_) => {
                    errors.add(
                        field,
                        format!("{what} must be a whole number, not “{text}”."),
                    );
                    None
                }
            }
        };
        let method = WebhookMethod::parse(self.method.trim())
            .map_err(|error| errors.add("method", error.0))
            .ok();
        let timeout = number(&mut errors, "timeout", &self.timeout_seconds, "The timeout");
        let mut retries = Vec::new();
        for delay in self
            .retry_schedule
            .split([',', ' ', '\n', '\r', '\t'])
            .filter(|delay| !delay.is_empty())
        {
            match number(&mut errors, "retry", delay, "Each delay") {
                Some(delay) => retries.push(delay),
                None => break,
            }
        }
        // Empty keeps the stored cap (a new webhook's default). Past `u32`
        // is past every limit: the domain's check refuses it with the
        // limits in its message.
        let max_in_flight = match self.max_in_flight.trim() {
            "" => None,
            cap => number(
                &mut errors,
                "in_flight",
                cap,
                "The most deliveries in flight",
            )
            .map(|cap| u32::try_from(cap).unwrap_or(u32::MAX)),
        };
        let batch_mode = BatchMode::parse(self.batch_mode.trim())
            .map_err(|error| errors.add("batching", error.0))
            .ok();
        let batch_wait = number(
            &mut errors,
            "batching",
            &self.batch_wait_seconds,
            "The batch wait",
        );
        let max_items = number(
            &mut errors,
            "batching",
            &self.max_items_per_batch,
            "The most items per batch",
        )
        .and_then(|items| {
            u32::try_from(items)
                .map_err(|_| errors.add("batching", "Too many items per batch.".into()))
                .ok()
        });
        let auth = self
            .auth(current.map(|settings| &settings.auth))
            .map_err(|error| errors.add("auth", error))
            .ok();
        let payload_config = self
            .payload_config()
            .map_err(|error| errors.add("payload", error))
            .ok();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(WebhookInput {
            name: Some(self.name.clone()),
            url: Some(self.url.clone()),
            method,
            events: Some(self.events.clone()),
            conditions: Some(Conditions {
                funnel_stage_in: self.stage_in.clone(),
                funnel_stage_not_in: self.stage_not_in.clone(),
                stage_changed_to: self.stage_changed_to.clone(),
            }),
            auth,
            send_secret_header: Some(self.send_secret_header),
            send_hmac_header: Some(self.send_hmac_header),
            timeout_seconds: timeout,
            retry_schedule_seconds: Some(retries),
            max_in_flight,
            payload_format: Some(self.payload_format.trim().to_owned()),
            payload_config,
            lightweight_logs: Some(self.lightweight_logs),
            batch_mode,
            batch_wait_seconds: batch_wait,
            max_items_per_batch: max_items,
            active: Some(self.active),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::webhooks::fields::tests::fields;

    #[test]
    fn unreadable_numbers_and_headers_are_refused_per_field() {
        let form = WebhookForm::from_fields(fields(&[
            ("method", "POST"),
            ("timeout_seconds", "soon"),
            ("retry_schedule", "5, x"),
            ("batch_mode", "none"),
            ("batch_wait_seconds", "10"),
            ("max_items_per_batch", "100"),
            ("auth_type", "headers"),
            ("auth_headers", "X-Api-Key"),
            ("payload_format", "small"),
        ]));
        let errors = form.to_input(None).expect_err("refused");
        assert!(errors.get("timeout").is_some_and(|e| e.contains("“soon”")));
        assert!(errors.get("retry").is_some_and(|e| e.contains("“x”")));
        assert!(
            errors
                .get("auth")
                .is_some_and(|e| e.contains("Name: value"))
        );
        assert!(errors.get("batching").is_none());
    }
}
