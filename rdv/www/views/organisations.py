from django.shortcuts import render

from rdv.accounts.models import AgentRole
from rdv.outbox import policies as outbox_policies
from rdv.www.tenancy import organisation_member_required


@organisation_member_required
def home(request, organisation):
    colleagues = (
        AgentRole.objects.filter(organisation=organisation)
        .select_related("agent")
        .order_by("agent__last_name", "agent__first_name")
    )
    return render(
        request,
        "organisations/home.html",
        {
            "title": organisation.name,
            "organisation": organisation,
            "colleagues": colleagues,
            "sees_deliveries": outbox_policies.can_view_organisation_page(request.user, organisation),
        },
    )
