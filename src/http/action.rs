//! The one lifecycle-action endpoint, as a macro (`lifecycle_action!`): every `POST /<resource>/{id}/<action>` of
//! the lifecycle resources is this handler with its own summary, body and input. Kept apart from the transition flow
//! (which touches the database) so that handler code and SQL stay in separate files.

use crate::error::ApiResult;
/// An optional action body: none, or an empty object (`lifecycle_action!`'s `optional`).
pub fn parse_optional<T: serde::de::DeserializeOwned + crate::error::validation::Checked>(
    body: crate::http::extract::JsonBody<T>,
) -> ApiResult<T> {
    body.parse_or_empty()
}

/// A required action body: an empty one is 400, like every other required body (`lifecycle_action!`'s `required`).
pub fn parse_required<T: serde::de::DeserializeOwned + crate::error::validation::Checked>(
    body: crate::http::extract::JsonBody<T>,
) -> ApiResult<T> {
    body.parse()
}

/// One lifecycle action endpoint, `POST <path>`, written once: the role gate from the resource's `LIFECYCLE`, the
/// body parsed into its `TransitionInput`, [`crate::http::transition::respond`] with `store::transition`, and the OpenAPI operation (summary,
/// description with the roles, optional or required body, 200/403/409). The invoking handlers module has in scope
/// what a handler there uses anyway: `LIFECYCLE`, `TransitionInput`, `store`, `post`, `web`, `HttpRequest`,
/// `HttpResponse`, `Caller`, `JsonBody`, `ApiResult`, `AppState`, `Uuid`, `Forbidden`, `Conflict`.
#[macro_export]
macro_rules! lifecycle_action {
    ($name:ident, $path:literal, $action:expr, tag $tag:literal, id $id_doc:literal, item $item:ty,
     optional $body:ty => $input:expr, $summary:literal, $doc:literal) => {
        $crate::lifecycle_action!(@handler $name, $path, $action, $tag, $id_doc, $item, $body, Option<$body>,
            parse_optional, $input, $summary, $doc);
    };
    ($name:ident, $path:literal, $action:expr, tag $tag:literal, id $id_doc:literal, item $item:ty,
     required $body:ty => $input:expr, $summary:literal, $doc:literal) => {
        $crate::lifecycle_action!(@handler $name, $path, $action, $tag, $id_doc, $item, $body, $body,
            parse_required, $input, $summary, $doc);
    };
    (@handler $name:ident, $path:literal, $action:expr, $tag:literal, $id_doc:literal, $item:ty, $body:ty,
     $documented:ty, $parse:ident, $input:expr, $summary:literal, $doc:literal) => {
        // utoipa reads the first doc line as the summary and the rest as the description.
        #[doc = $summary]
        #[doc = ""]
        #[doc = $doc]
        #[utoipa::path(
            tag = $tag,
            params(("id" = Uuid, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header, description = "Optional: refuse (412) if it changed since this ETag"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
            request_body(content = $documented, content_type = "application/json"),
            responses(
                (status = 200, description = "The resource after the action", body = $item, headers(("ETag" = String))),
                (status = 403, response = Forbidden),
                (status = 409, response = Conflict),
            ),
            security(("bearerAuth" = []))
        )]
        #[post($path)]
        pub(super) async fn $name(
            state: web::Data<AppState>,
            req: HttpRequest,
            caller: Caller,
            id: web::Path<Uuid>,
            body: JsonBody<$body>,
        ) -> ApiResult<HttpResponse> {
            caller.require(LIFECYCLE.roles($action))?;
            let bytes = body.bytes().to_vec();
            let input: TransitionInput = ($input)($crate::http::action::$parse(body)?);
            $crate::http::transition::respond(&state, &req, &caller, &bytes, async |conn, expected| {
                store::transition(conn, &caller, *id, $action, expected, input.clone()).await
            })
            .await
        }
    };
}
