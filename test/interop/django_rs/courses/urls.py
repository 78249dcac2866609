from django.urls import path

from . import views

urlpatterns = [
    path("courses", views.Courses.as_view()),
    path("grades", views.Grades.as_view()),
]
