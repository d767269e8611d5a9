"""AWS::IAM::OIDCProvider (the EKS cluster's issuer, for IAM roles for service accounts) on
moto's IAM backend."""

from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends

from .common import Emulated, tag_list


class OIDCProvider(Emulated, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_name_type():
        return ""

    @staticmethod
    def cloudformation_type():
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = iam_backends[account_id]["global"]
        # Without thumbprints AWS takes the issuer's own certificate; the emulator has none.
        provider = backend.create_open_id_connect_provider(p["Url"], p.get("ThumbprintList") or ["0" * 40], p.get("ClientIdList", []), tag_list(p.get("Tags")))
        return cls(provider.arn, {"Arn": provider.arn}, remove=lambda: backend.delete_open_id_connect_provider(provider.arn))


# SimulatePrincipalPolicy, which moto lacks. The emulator enforces no IAM policy, so every
# action is allowed for a principal that exists (a user or role of the account, or the
# emulator's own caller); one that does not is NoSuchEntity, as IAM answers.
from moto.core.responses import ActionResult  # noqa: E402
from moto.iam.exceptions import NoSuchEntity, NotFoundException  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402

# moto's GetCallerIdentity names its caller arn:aws:sts::<account>:user/moto.
EMULATOR_CALLERS = ("arn:aws:iam::{account}:user/moto", "arn:aws:sts::{account}:user/moto")


def simulate_principal_policy(self) -> ActionResult:
    principal = self._get_param("PolicySourceArn") or ""
    actions = self._get_param("ActionNames", [])
    resources = self._get_param("ResourceArns") or ["*"]
    kind, _, name = principal.split(":")[-1].partition("/")
    name = name.rsplit("/", 1)[-1]
    known = principal in [c.format(account=self.current_account) for c in EMULATOR_CALLERS]
    if not known:
        try:
            if kind == "user":
                self.backend.get_user(name)
                known = True
            elif kind == "role":
                self.backend.get_role(name)
                known = True
        except (NoSuchEntity, NotFoundException):
            known = False
    if not known:
        raise NoSuchEntity(f"The principal {principal} was not found")
    results = [
        {"EvalActionName": a, "EvalResourceName": r, "EvalDecision": "allowed", "MatchedStatements": [], "MissingContextValues": []}
        for a in actions
        for r in resources
    ]
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


IamResponse.simulate_principal_policy = simulate_principal_policy
