"""An organisation's own key (BYOK): ``GET`` its settings, state and use per hour (with the external
id its role must require), ``PUT`` the key and role to use (probed first; every key re-wrapped)."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime

from ninja import Field, Schema

from bastion.api.routing import AuthorizingRouter
from bastion.tenancy import customer_keys
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["keys"])


class CustomerKeyIn(Schema):
    key_arn: str = Field(max_length=200)
    role_arn: str = Field(max_length=200)


class UsePerHour(Schema):
    hour: datetime.datetime
    uses: int


class CustomerKeyOut(Schema):
    configured: bool
    external_id: str
    key_arn: str
    role_arn: str
    state: str
    configured_at: datetime.datetime | None
    uses_per_hour: list[UsePerHour]


@router.get("/orgs/{org}/customer-key", response=CustomerKeyOut)
@requires("organisation.manage")
def get_customer_key(request, org: str):
    """The state is read from the customer's account now; uses are counted from the audit log (48 h)."""
    return customer_keys.status(request.access.organisation)


@router.put("/orgs/{org}/customer-key", response=CustomerKeyOut)
@requires("organisation.manage")
def put_customer_key(request, org: str, payload: CustomerKeyIn):
    customer_keys.configure(request.access.organisation, key_arn=payload.key_arn, role_arn=payload.role_arn)
    return customer_keys.status(request.access.organisation)
