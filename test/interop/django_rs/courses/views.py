from oauth2_provider.contrib.rest_framework import TokenHasScope, TokenMatchesOASRequirements
from rest_framework.response import Response
from rest_framework.views import APIView


def seen(request):
    """What the view learnt of the caller: the token's scopes and, for a person, their Django user."""
    return {"scope": request.auth.scope, "user": request.user.get_username() if request.user else None}


class Courses(APIView):
    """Gatehouse's scope per HTTP method: GET read, POST create, PUT/PATCH update, DELETE delete."""

    permission_classes = [TokenMatchesOASRequirements]
    required_alternate_scopes = {
        "GET": [["read"]],
        "POST": [["create"]],
        "PUT": [["update"]],
        "PATCH": [["update"]],
        "DELETE": [["delete"]],
    }

    def get(self, request):
        return Response({**seen(request), "courses": ["6.001"]})

    def post(self, request):
        return Response({**seen(request), "created": request.data}, status=201)


class Grades(APIView):
    """An enterprise scope: only tokens Gatehouse granted `grades` (its group's members, or allowed servers)."""

    permission_classes = [TokenHasScope]
    required_scopes = ["grades"]

    def get(self, request):
        return Response(seen(request))
