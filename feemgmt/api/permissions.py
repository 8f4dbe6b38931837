from rest_framework.permissions import DjangoModelPermissions


class IsStaffWithModelPermissions(DjangoModelPermissions):
    """Staff accounts only, and each may do what its Django permissions allow
    (reading needs the model's view permission)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
    }

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        return super().has_permission(request, view)
