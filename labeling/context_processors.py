from .roles import is_rater


def roles(request):
    user = getattr(request, "user", None)
    return {"is_rater": bool(user and user.is_authenticated and is_rater(user))}
