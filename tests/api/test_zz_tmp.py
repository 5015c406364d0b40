import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from authcheck.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

def test_empty(client_for):
    c = client_for(UserFactory(username="x", role=Role.JOURNALIST))
    r = c.post("/api/v1/verify", {"file": SimpleUploadedFile("file", b"")}, format="multipart")
    print(r.status_code, r.content)
    import io
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\n\r\n--b--\r\n'
    r = c.generic("POST", "/api/v1/verify", body, content_type="multipart/form-data; boundary=b")
    print(r.status_code, r.content)
    body = b'--b\r\nContent-Disposition: form-data; name="file"; filename="file"\r\n\r\nx\r\n--b--\r\n'
    r = c.generic("POST", "/api/v1/verify", body, content_type="multipart/form-data; boundary=b")
    print(r.status_code, r.content[:200])
