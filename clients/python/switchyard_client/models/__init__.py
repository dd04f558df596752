"""Contains all the data models used in inputs/outputs"""

from .actor import Actor
from .actor_kind import ActorKind
from .api_key_list import ApiKeyList
from .api_key_view import ApiKeyView
from .api_key_with_secret import ApiKeyWithSecret
from .attach_transform import AttachTransform
from .attempt_view import AttemptView
from .basic_auth import BasicAuth
from .basic_auth_type import BasicAuthType
from .batch_mode import BatchMode
from .batch_update_request import BatchUpdateRequest
from .batch_update_response import BatchUpdateResponse
from .bearer_auth import BearerAuth
from .bearer_auth_type import BearerAuthType
from .conditions import Conditions
from .create_api_key import CreateApiKey
from .create_funnel_stage import CreateFunnelStage
from .create_lead import CreateLead
from .delivery_detail import DeliveryDetail
from .delivery_page import DeliveryPage
from .delivery_status import DeliveryStatus
from .delivery_view import DeliveryView
from .dry_run_request import DryRunRequest
from .dry_run_request_headers import DryRunRequestHeaders
from .dry_run_result import DryRunResult
from .error_body import ErrorBody
from .event_name import EventName
from .external_id_view import ExternalIdView
from .funnel_event_view import FunnelEventView
from .funnel_history import FunnelHistory
from .funnel_stage_list import FunnelStageList
from .funnel_stage_view import FunnelStageView
from .funnel_update_record import FunnelUpdateRecord
from .headers_auth import HeadersAuth
from .headers_auth_headers import HeadersAuthHeaders
from .headers_auth_type import HeadersAuthType
from .health import Health
from .import_endpoints import ImportEndpoints
from .import_rate_limit import ImportRateLimit
from .import_transform import ImportTransform
from .inbound_error_body import InboundErrorBody
from .inbound_sample import InboundSample
from .inbound_sample_headers import InboundSampleHeaders
from .lead_page import LeadPage
from .lead_stage_view import LeadStageView
from .lead_view import LeadView
from .list_deliveries_status import ListDeliveriesStatus
from .new_webhook import NewWebhook
from .no_auth import NoAuth
from .no_auth_type import NoAuthType
from .plugin_kind import PluginKind
from .plugin_limits import PluginLimits
from .plugin_list import PluginList
from .plugin_view import PluginView
from .preview_request import PreviewRequest
from .preview_view import PreviewView
from .preview_view_headers import PreviewViewHeaders
from .record_check import RecordCheck
from .record_result import RecordResult
from .record_status import RecordStatus
from .recover_request import RecoverRequest
from .recover_view import RecoverView
from .reorder_funnel_stages import ReorderFunnelStages
from .replace_stage_mappings import ReplaceStageMappings
from .single_update_response import SingleUpdateResponse
from .stage_mapping_item import StageMappingItem
from .stage_mapping_list import StageMappingList
from .stage_mapping_view import StageMappingView
from .template_config import TemplateConfig
from .template_config_format import TemplateConfigFormat
from .test_send_view import TestSendView
from .transform_test_request import TransformTestRequest
from .transform_test_result import TransformTestResult
from .update_funnel_stage import UpdateFunnelStage
from .update_lead import UpdateLead
from .upload_plugin_kind import UploadPluginKind
from .upload_plugin_language import UploadPluginLanguage
from .webhook_import_changes import WebhookImportChanges
from .webhook_import_list import WebhookImportList
from .webhook_import_name import WebhookImportName
from .webhook_import_view import WebhookImportView
from .webhook_import_with_token import WebhookImportWithToken
from .webhook_input import WebhookInput
from .webhook_list import WebhookList
from .webhook_method import WebhookMethod
from .webhook_view import WebhookView

__all__ = (
    "Actor",
    "ActorKind",
    "ApiKeyList",
    "ApiKeyView",
    "ApiKeyWithSecret",
    "AttachTransform",
    "AttemptView",
    "BasicAuth",
    "BasicAuthType",
    "BatchMode",
    "BatchUpdateRequest",
    "BatchUpdateResponse",
    "BearerAuth",
    "BearerAuthType",
    "Conditions",
    "CreateApiKey",
    "CreateFunnelStage",
    "CreateLead",
    "DeliveryDetail",
    "DeliveryPage",
    "DeliveryStatus",
    "DeliveryView",
    "DryRunRequest",
    "DryRunRequestHeaders",
    "DryRunResult",
    "ErrorBody",
    "EventName",
    "ExternalIdView",
    "FunnelEventView",
    "FunnelHistory",
    "FunnelStageList",
    "FunnelStageView",
    "FunnelUpdateRecord",
    "HeadersAuth",
    "HeadersAuthHeaders",
    "HeadersAuthType",
    "Health",
    "ImportEndpoints",
    "ImportRateLimit",
    "ImportTransform",
    "InboundErrorBody",
    "InboundSample",
    "InboundSampleHeaders",
    "LeadPage",
    "LeadStageView",
    "LeadView",
    "ListDeliveriesStatus",
    "NewWebhook",
    "NoAuth",
    "NoAuthType",
    "PluginKind",
    "PluginLimits",
    "PluginList",
    "PluginView",
    "PreviewRequest",
    "PreviewView",
    "PreviewViewHeaders",
    "RecordCheck",
    "RecordResult",
    "RecordStatus",
    "RecoverRequest",
    "RecoverView",
    "ReorderFunnelStages",
    "ReplaceStageMappings",
    "SingleUpdateResponse",
    "StageMappingItem",
    "StageMappingList",
    "StageMappingView",
    "TemplateConfig",
    "TemplateConfigFormat",
    "TestSendView",
    "TransformTestRequest",
    "TransformTestResult",
    "UpdateFunnelStage",
    "UpdateLead",
    "UploadPluginKind",
    "UploadPluginLanguage",
    "WebhookImportChanges",
    "WebhookImportList",
    "WebhookImportName",
    "WebhookImportView",
    "WebhookImportWithToken",
    "WebhookInput",
    "WebhookList",
    "WebhookMethod",
    "WebhookView",
)
