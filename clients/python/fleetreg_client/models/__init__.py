"""Contains all the data models used in inputs/outputs"""

from .association_changes import AssociationChanges
from .association_create import AssociationCreate
from .association_document import AssociationDocument
from .association_document_meta import AssociationDocumentMeta
from .association_end import AssociationEnd
from .association_history import AssociationHistory
from .association_out import AssociationOut
from .association_patch import AssociationPatch
from .association_patch_data import AssociationPatchData
from .association_reference import AssociationReference
from .association_replace import AssociationReplace
from .association_resource import AssociationResource
from .association_with_chip_out import AssociationWithChipOut
from .associations_document import AssociationsDocument
from .associations_document_meta import AssociationsDocumentMeta
from .attempt import Attempt
from .chip_attributes import ChipAttributes
from .chip_changes import ChipChanges
from .chip_create import ChipCreate
from .chip_document import ChipDocument
from .chip_document_meta import ChipDocumentMeta
from .chip_fields import ChipFields
from .chip_list import ChipList
from .chip_out import ChipOut
from .chip_patch import ChipPatch
from .chip_patch_data import ChipPatchData
from .chip_resource import ChipResource
from .connector import Connector
from .connector_assignment import ConnectorAssignment
from .connector_list import ConnectorList
from .connector_query import ConnectorQuery
from .connector_query_type_type_0_item import ConnectorQueryTypeType0Item
from .connector_type import ConnectorType
from .customer import Customer
from .customer_input import CustomerInput
from .customer_list import CustomerList
from .customer_query import CustomerQuery
from .delivery import Delivery
from .delivery_list import DeliveryList
from .device_attributes import DeviceAttributes
from .device_changes import DeviceChanges
from .device_create import DeviceCreate
from .device_document import DeviceDocument
from .device_document_meta import DeviceDocumentMeta
from .device_list import DeviceList
from .device_out import DeviceOut
from .device_patch import DevicePatch
from .device_patch_data import DevicePatchData
from .device_resource import DeviceResource
from .enterprise_attributes import EnterpriseAttributes
from .enterprise_changes import EnterpriseChanges
from .enterprise_create import EnterpriseCreate
from .enterprise_document import EnterpriseDocument
from .enterprise_document_meta import EnterpriseDocumentMeta
from .enterprise_list import EnterpriseList
from .enterprise_out import EnterpriseOut
from .enterprise_patch import EnterprisePatch
from .enterprise_patch_data import EnterprisePatchData
from .enterprise_resource import EnterpriseResource
from .get_health_response_200 import GetHealthResponse200
from .get_jwks_response_200 import GetJwksResponse200
from .get_jwks_response_200_keys_item import GetJwksResponse200KeysItem
from .get_readiness_response_200 import GetReadinessResponse200
from .included_device import IncludedDevice
from .included_enterprise import IncludedEnterprise
from .issue_token_body import IssueTokenBody
from .issue_token_body_grant_type import IssueTokenBodyGrantType
from .issue_token_response_200 import IssueTokenResponse200
from .issue_token_response_200_token_type import IssueTokenResponse200TokenType
from .issue_token_response_400 import IssueTokenResponse400
from .issue_token_response_400_error import IssueTokenResponse400Error
from .issue_token_response_401 import IssueTokenResponse401
from .issue_token_response_401_error import IssueTokenResponse401Error
from .issue_token_response_429 import IssueTokenResponse429
from .issue_token_response_429_error import IssueTokenResponse429Error
from .list_connectors_type_item import ListConnectorsTypeItem
from .list_events_response_200 import ListEventsResponse200
from .list_events_response_200_data_item import ListEventsResponse200DataItem
from .list_events_response_200_data_item_actor import ListEventsResponse200DataItemActor
from .list_events_response_200_data_item_data import ListEventsResponse200DataItemData
from .list_events_response_200_data_item_subject import ListEventsResponse200DataItemSubject
from .list_events_response_200_data_item_tenant import ListEventsResponse200DataItemTenant
from .list_events_response_200_data_item_type import ListEventsResponse200DataItemType
from .list_events_type_item import ListEventsTypeItem
from .list_meta import ListMeta
from .list_vehicle_associations_attributes_item import ListVehicleAssociationsAttributesItem
from .new_association import NewAssociation
from .new_chip import NewChip
from .new_connector import NewConnector
from .new_connector_type import NewConnectorType
from .new_device import NewDevice
from .new_enterprise import NewEnterprise
from .new_vehicle import NewVehicle
from .new_webhook import NewWebhook
from .problem import Problem
from .problem_errors_item import ProblemErrorsItem
from .replaced_associations import ReplacedAssociations
from .replacement import Replacement
from .replacement_document import ReplacementDocument
from .replacement_document_meta import ReplacementDocumentMeta
from .stream_events_type_item import StreamEventsTypeItem
from .vehicle_association_list import VehicleAssociationList
from .vehicle_association_resource import VehicleAssociationResource
from .vehicle_attributes import VehicleAttributes
from .vehicle_changes import VehicleChanges
from .vehicle_create import VehicleCreate
from .vehicle_document import VehicleDocument
from .vehicle_document_meta import VehicleDocumentMeta
from .vehicle_list import VehicleList
from .vehicle_out import VehicleOut
from .vehicle_patch import VehiclePatch
from .vehicle_patch_data import VehiclePatchData
from .vehicle_resource import VehicleResource
from .webhook_changes import WebhookChanges
from .webhook_list import WebhookList
from .webhook_out import WebhookOut
from .webhook_with_secret import WebhookWithSecret

__all__ = (
    "AssociationChanges",
    "AssociationCreate",
    "AssociationDocument",
    "AssociationDocumentMeta",
    "AssociationEnd",
    "AssociationHistory",
    "AssociationOut",
    "AssociationPatch",
    "AssociationPatchData",
    "AssociationReference",
    "AssociationReplace",
    "AssociationResource",
    "AssociationsDocument",
    "AssociationsDocumentMeta",
    "AssociationWithChipOut",
    "Attempt",
    "ChipAttributes",
    "ChipChanges",
    "ChipCreate",
    "ChipDocument",
    "ChipDocumentMeta",
    "ChipFields",
    "ChipList",
    "ChipOut",
    "ChipPatch",
    "ChipPatchData",
    "ChipResource",
    "Connector",
    "ConnectorAssignment",
    "ConnectorList",
    "ConnectorQuery",
    "ConnectorQueryTypeType0Item",
    "ConnectorType",
    "Customer",
    "CustomerInput",
    "CustomerList",
    "CustomerQuery",
    "Delivery",
    "DeliveryList",
    "DeviceAttributes",
    "DeviceChanges",
    "DeviceCreate",
    "DeviceDocument",
    "DeviceDocumentMeta",
    "DeviceList",
    "DeviceOut",
    "DevicePatch",
    "DevicePatchData",
    "DeviceResource",
    "EnterpriseAttributes",
    "EnterpriseChanges",
    "EnterpriseCreate",
    "EnterpriseDocument",
    "EnterpriseDocumentMeta",
    "EnterpriseList",
    "EnterpriseOut",
    "EnterprisePatch",
    "EnterprisePatchData",
    "EnterpriseResource",
    "GetHealthResponse200",
    "GetJwksResponse200",
    "GetJwksResponse200KeysItem",
    "GetReadinessResponse200",
    "IncludedDevice",
    "IncludedEnterprise",
    "IssueTokenBody",
    "IssueTokenBodyGrantType",
    "IssueTokenResponse200",
    "IssueTokenResponse200TokenType",
    "IssueTokenResponse400",
    "IssueTokenResponse400Error",
    "IssueTokenResponse401",
    "IssueTokenResponse401Error",
    "IssueTokenResponse429",
    "IssueTokenResponse429Error",
    "ListConnectorsTypeItem",
    "ListEventsResponse200",
    "ListEventsResponse200DataItem",
    "ListEventsResponse200DataItemActor",
    "ListEventsResponse200DataItemData",
    "ListEventsResponse200DataItemSubject",
    "ListEventsResponse200DataItemTenant",
    "ListEventsResponse200DataItemType",
    "ListEventsTypeItem",
    "ListMeta",
    "ListVehicleAssociationsAttributesItem",
    "NewAssociation",
    "NewChip",
    "NewConnector",
    "NewConnectorType",
    "NewDevice",
    "NewEnterprise",
    "NewVehicle",
    "NewWebhook",
    "Problem",
    "ProblemErrorsItem",
    "ReplacedAssociations",
    "Replacement",
    "ReplacementDocument",
    "ReplacementDocumentMeta",
    "StreamEventsTypeItem",
    "VehicleAssociationList",
    "VehicleAssociationResource",
    "VehicleAttributes",
    "VehicleChanges",
    "VehicleCreate",
    "VehicleDocument",
    "VehicleDocumentMeta",
    "VehicleList",
    "VehicleOut",
    "VehiclePatch",
    "VehiclePatchData",
    "VehicleResource",
    "WebhookChanges",
    "WebhookList",
    "WebhookOut",
    "WebhookWithSecret",
)
