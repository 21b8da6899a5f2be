from django.urls import path

from . import views

urlpatterns = [
    path("hello/", views.hello, name="hello"),
    path("whoami/", views.whoami, name="whoami"),
    path("echo/", views.echo, name="echo"),
    path("__health", views.health, name="health"),
]
