"""The second sign-in step for staff: set up a TOTP authenticator once, then enter its codes.

``RequireTwoFactorMiddleware`` sends signed-in staff here until their session is verified.
"""

import io

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_totp.models import TOTPDevice


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return "/"


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # drop the XML declaration; inline in the page


@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask for a code; a staff member without a confirmed device sets one up first."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            request.session.cycle_key()
            return HttpResponseRedirect(_next_url(request))
        form.add_error(
            "token", _("This code is not valid. Check your device's clock and try again.")
        )
    context = {
        "form": form,
        "next": _next_url(request),
        "setting_up": setting_up,
        "secret": device.config_url.split("secret=")[1].split("&")[0] if setting_up else "",
        "qr": mark_safe(_qr_svg(device.config_url)) if setting_up else "",  # noqa: S308 (our SVG)
        "title": _("Set up two-factor sign-in") if setting_up else _("Two-factor sign-in"),
    }
    return render(request, "registration/two_factor.html", context)
