from django.urls import path

from closeloop.accounts.views import account, login, password

app_name = "accounts"

urlpatterns = [
    path("login/code/", login.login_code, name="login_code"),
    path("password/reset/", password.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", password.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", password.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("desk/account/", account.account, name="account"),
    path("desk/account/password/", account.PasswordChangeView.as_view(), name="password_change"),
    path("desk/account/two-factor/", account.twofactor_enrol, name="twofactor_enrol"),
    path("desk/account/two-factor/recovery-codes/", account.recovery_codes_issue, name="recovery_codes"),
    path("desk/account/two-factor/off/", account.twofactor_disable, name="twofactor_disable"),
    path("desk/account/sessions/<int:session_id>/end/", account.session_end, name="session_end"),
    path("desk/account/sessions/end-others/", account.sessions_end_others, name="sessions_end_others"),
    path("desk/account/tokens/", account.token_create, name="token_create"),
    path("desk/account/tokens/<int:token_id>/revoke/", account.token_revoke, name="token_revoke"),
]
