from django.shortcuts import render


def not_found(request, exception=None):
    response = render(request, "errors/404.html", {"title": "Page introuvable"}, status=404)
    response.product_page = True  # rdv.www.middleware.ProductNotFoundMiddleware leaves it as is
    return response


def server_error(request):
    return render(request, "errors/500.html", {"title": "Erreur inattendue"}, status=500)
