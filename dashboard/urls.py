"""Dashboard URLs, mounted at /dashboard/."""

from django.urls import path

from dashboard.views import admin, auth, detail, queue, stats, workflow

app_name = "dashboard"

urlpatterns = [
    path("", queue.queue_view, name="queue"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password/", auth.password_change_view, name="password_change"),
    path("submit", queue.submit_view, name="submit"),
    path("queue.csv", queue.queue_csv_view, name="queue_csv"),
    path("rows/<int:check_id>", queue.queue_row_view, name="row"),
    path("checks/<int:check_id>", detail.detail_view, name="detail"),
    path("checks/<int:check_id>/export.json", detail.export_json_view, name="export_json"),
    path("checks/<int:check_id>/report.json", detail.report_view, name="report"),
    path("checks/<int:check_id>/media", detail.media_view, name="media"),
    path("checks/<int:check_id>/frames/<int:index>.jpg", detail.keyframe_view, name="frame"),
    path("checks/<int:check_id>/audit", detail.audit_fragment_view, name="audit"),
    path("checks/<int:check_id>/stages", detail.stages_fragment_view, name="stages"),
    path("checks/<int:check_id>/assign", workflow.assign_view, name="assign"),
    path("checks/<int:check_id>/state", workflow.state_view, name="state"),
    path("checks/<int:check_id>/comments", workflow.comment_view, name="comment"),
    path("checks/<int:check_id>/decide", workflow.decide_view, name="decide"),
    path("checks/<int:check_id>/signoff/<int:pending_id>", workflow.signoff_view, name="signoff"),
    path("stats", stats.stats_view, name="stats"),
    path("admin/anchors", admin.anchors_view, name="admin_anchors"),
    path("admin/anchors/add", admin.anchor_add_view, name="admin_anchor_add"),
    path("admin/anchors/disable", admin.anchor_disable_view, name="admin_anchor_disable"),
    path("admin/tokens", admin.tokens_view, name="admin_tokens"),
    path("admin/tokens/new", admin.token_create_view, name="admin_token_create"),
    path("admin/tokens/<int:token_id>/revoke", admin.token_revoke_view, name="admin_token_revoke"),
    path("admin/people", admin.people_view, name="admin_people"),
    path("admin/people/new", admin.person_create_view, name="admin_person_create"),
    path("admin/people/<int:user_id>", admin.person_change_view, name="admin_person_change"),
]
