from django.shortcuts import render

from rdv.accounts import selectors as account_selectors
from rdv.outbox import policies as outbox_policies
from rdv.territories import policies as territory_policies
from rdv.www.tenancy import organisation_member_required


@organisation_member_required
def home(request, ctx):
    return render(
        request,
        "organisations/home.html",
        {
            "title": ctx.organisation.name,
            "organisation": ctx.organisation,
            "colleagues": account_selectors.colleagues(ctx),
            "sees_deliveries": outbox_policies.can_view_page(ctx),
            "manages_sectors": territory_policies.can_manage_sector_codes(ctx, ctx.organisation),
        },
    )
