from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.external_id_view import ExternalIdView
    from ..models.lead_stage_view import LeadStageView


T = TypeVar("T", bound="LeadView")


@_attrs_define
class LeadView:
    """A lead.

    Attributes:
        created_at (str):
        email (str):
        lead_profile_uid (str): Assigned by Switchyard; the id CRMs send in funnel updates.
        score (int):
        updated_at (str):
        company (None | str | Unset):
        external_id (ExternalIdView | None | Unset):
        first_name (None | str | Unset):
        funnel_stage (LeadStageView | None | Unset):
        last_name (None | str | Unset):
        linkedin (None | str | Unset):
        notes (None | str | Unset):
        phone (None | str | Unset):
        position (None | str | Unset):
        twitter (None | str | Unset):
        website (None | str | Unset):
    """

    created_at: str
    email: str
    lead_profile_uid: str
    score: int
    updated_at: str
    company: None | str | Unset = UNSET
    external_id: ExternalIdView | None | Unset = UNSET
    first_name: None | str | Unset = UNSET
    funnel_stage: LeadStageView | None | Unset = UNSET
    last_name: None | str | Unset = UNSET
    linkedin: None | str | Unset = UNSET
    notes: None | str | Unset = UNSET
    phone: None | str | Unset = UNSET
    position: None | str | Unset = UNSET
    twitter: None | str | Unset = UNSET
    website: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.external_id_view import ExternalIdView
        from ..models.lead_stage_view import LeadStageView

        created_at = self.created_at

        email = self.email

        lead_profile_uid = self.lead_profile_uid

        score = self.score

        updated_at = self.updated_at

        company: None | str | Unset
        if isinstance(self.company, Unset):
            company = UNSET
        else:
            company = self.company

        external_id: dict[str, Any] | None | Unset
        if isinstance(self.external_id, Unset):
            external_id = UNSET
        elif isinstance(self.external_id, ExternalIdView):
            external_id = self.external_id.to_dict()
        else:
            external_id = self.external_id

        first_name: None | str | Unset
        if isinstance(self.first_name, Unset):
            first_name = UNSET
        else:
            first_name = self.first_name

        funnel_stage: dict[str, Any] | None | Unset
        if isinstance(self.funnel_stage, Unset):
            funnel_stage = UNSET
        elif isinstance(self.funnel_stage, LeadStageView):
            funnel_stage = self.funnel_stage.to_dict()
        else:
            funnel_stage = self.funnel_stage

        last_name: None | str | Unset
        if isinstance(self.last_name, Unset):
            last_name = UNSET
        else:
            last_name = self.last_name

        linkedin: None | str | Unset
        if isinstance(self.linkedin, Unset):
            linkedin = UNSET
        else:
            linkedin = self.linkedin

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        phone: None | str | Unset
        if isinstance(self.phone, Unset):
            phone = UNSET
        else:
            phone = self.phone

        position: None | str | Unset
        if isinstance(self.position, Unset):
            position = UNSET
        else:
            position = self.position

        twitter: None | str | Unset
        if isinstance(self.twitter, Unset):
            twitter = UNSET
        else:
            twitter = self.twitter

        website: None | str | Unset
        if isinstance(self.website, Unset):
            website = UNSET
        else:
            website = self.website

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "lead_profile_uid": lead_profile_uid,
                "score": score,
                "updated_at": updated_at,
            }
        )
        if company is not UNSET:
            field_dict["company"] = company
        if external_id is not UNSET:
            field_dict["external_id"] = external_id
        if first_name is not UNSET:
            field_dict["first_name"] = first_name
        if funnel_stage is not UNSET:
            field_dict["funnel_stage"] = funnel_stage
        if last_name is not UNSET:
            field_dict["last_name"] = last_name
        if linkedin is not UNSET:
            field_dict["linkedin"] = linkedin
        if notes is not UNSET:
            field_dict["notes"] = notes
        if phone is not UNSET:
            field_dict["phone"] = phone
        if position is not UNSET:
            field_dict["position"] = position
        if twitter is not UNSET:
            field_dict["twitter"] = twitter
        if website is not UNSET:
            field_dict["website"] = website

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.external_id_view import ExternalIdView
        from ..models.lead_stage_view import LeadStageView

        d = dict(src_dict)
        created_at = d.pop("created_at")

        email = d.pop("email")

        lead_profile_uid = d.pop("lead_profile_uid")

        score = d.pop("score")

        updated_at = d.pop("updated_at")

        def _parse_company(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        company = _parse_company(d.pop("company", UNSET))

        def _parse_external_id(data: object) -> ExternalIdView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                external_id_type_1 = ExternalIdView.from_dict(data)

                return external_id_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ExternalIdView | None | Unset, data)

        external_id = _parse_external_id(d.pop("external_id", UNSET))

        def _parse_first_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        first_name = _parse_first_name(d.pop("first_name", UNSET))

        def _parse_funnel_stage(data: object) -> LeadStageView | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                funnel_stage_type_1 = LeadStageView.from_dict(data)

                return funnel_stage_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LeadStageView | None | Unset, data)

        funnel_stage = _parse_funnel_stage(d.pop("funnel_stage", UNSET))

        def _parse_last_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_name = _parse_last_name(d.pop("last_name", UNSET))

        def _parse_linkedin(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        linkedin = _parse_linkedin(d.pop("linkedin", UNSET))

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        def _parse_phone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        phone = _parse_phone(d.pop("phone", UNSET))

        def _parse_position(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        position = _parse_position(d.pop("position", UNSET))

        def _parse_twitter(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        twitter = _parse_twitter(d.pop("twitter", UNSET))

        def _parse_website(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        website = _parse_website(d.pop("website", UNSET))

        lead_view = cls(
            created_at=created_at,
            email=email,
            lead_profile_uid=lead_profile_uid,
            score=score,
            updated_at=updated_at,
            company=company,
            external_id=external_id,
            first_name=first_name,
            funnel_stage=funnel_stage,
            last_name=last_name,
            linkedin=linkedin,
            notes=notes,
            phone=phone,
            position=position,
            twitter=twitter,
            website=website,
        )

        lead_view.additional_properties = d
        return lead_view

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
