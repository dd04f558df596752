from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateLead")


@_attrs_define
class CreateLead:
    """
    Attributes:
        email (str): Unique in the account, ignoring case: one `@` with a name before
            it and a dotted domain after it, no spaces or control characters,
            at most 254 bytes.
        company (None | str | Unset):
        first_name (None | str | Unset):
        funnel_stage_id (None | str | Unset): Places the lead in the funnel; the stages before it are backfilled.
        last_name (None | str | Unset):
        linkedin (None | str | Unset):
        notes (None | str | Unset): At most 10,000 characters.
        phone (None | str | Unset):
        position (None | str | Unset):
        score (int | None | Unset): Defaults to 0.
        twitter (None | str | Unset):
        website (None | str | Unset):
    """

    email: str
    company: None | str | Unset = UNSET
    first_name: None | str | Unset = UNSET
    funnel_stage_id: None | str | Unset = UNSET
    last_name: None | str | Unset = UNSET
    linkedin: None | str | Unset = UNSET
    notes: None | str | Unset = UNSET
    phone: None | str | Unset = UNSET
    position: None | str | Unset = UNSET
    score: int | None | Unset = UNSET
    twitter: None | str | Unset = UNSET
    website: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        company: None | str | Unset
        if isinstance(self.company, Unset):
            company = UNSET
        else:
            company = self.company

        first_name: None | str | Unset
        if isinstance(self.first_name, Unset):
            first_name = UNSET
        else:
            first_name = self.first_name

        funnel_stage_id: None | str | Unset
        if isinstance(self.funnel_stage_id, Unset):
            funnel_stage_id = UNSET
        else:
            funnel_stage_id = self.funnel_stage_id

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

        score: int | None | Unset
        if isinstance(self.score, Unset):
            score = UNSET
        else:
            score = self.score

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

        field_dict.update(
            {
                "email": email,
            }
        )
        if company is not UNSET:
            field_dict["company"] = company
        if first_name is not UNSET:
            field_dict["first_name"] = first_name
        if funnel_stage_id is not UNSET:
            field_dict["funnel_stage_id"] = funnel_stage_id
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
        if score is not UNSET:
            field_dict["score"] = score
        if twitter is not UNSET:
            field_dict["twitter"] = twitter
        if website is not UNSET:
            field_dict["website"] = website

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        def _parse_company(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        company = _parse_company(d.pop("company", UNSET))

        def _parse_first_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        first_name = _parse_first_name(d.pop("first_name", UNSET))

        def _parse_funnel_stage_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        funnel_stage_id = _parse_funnel_stage_id(d.pop("funnel_stage_id", UNSET))

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

        def _parse_score(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        score = _parse_score(d.pop("score", UNSET))

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

        create_lead = cls(
            email=email,
            company=company,
            first_name=first_name,
            funnel_stage_id=funnel_stage_id,
            last_name=last_name,
            linkedin=linkedin,
            notes=notes,
            phone=phone,
            position=position,
            score=score,
            twitter=twitter,
            website=website,
        )

        return create_lead
