from .roles import is_rater, is_staff_member


def roles(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    return {"is_rater": signed_in and is_rater(user), "is_staff_member": signed_in and is_staff_member(user)}
