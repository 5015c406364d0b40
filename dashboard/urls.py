"""Dashboard URLs, mounted at /dashboard/."""

from django.urls import path

from dashboard.views import auth, detail, queue, workflow

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
    path("checks/<int:check_id>/media", detail.media_view, name="media"),
    path("checks/<int:check_id>/frames/<int:index>.jpg", detail.keyframe_view, name="frame"),
    path("checks/<int:check_id>/audit", detail.audit_fragment_view, name="audit"),
    path("checks/<int:check_id>/assign", workflow.assign_view, name="assign"),
    path("checks/<int:check_id>/state", workflow.state_view, name="state"),
    path("checks/<int:check_id>/comments", workflow.comment_view, name="comment"),
    path("checks/<int:check_id>/decide", workflow.decide_view, name="decide"),
    path("checks/<int:check_id>/signoff/<int:pending_id>", workflow.signoff_view, name="signoff"),
]
