from django.urls import path

from . import views

urlpatterns = [
    path("r/<str:token>/", views.rater_home, name="rater-home"),
    path("r/<str:token>/p/<id:presentation_id>/", views.rater_form, name="rater-form"),
    path("r/<str:token>/sheet/", views.rater_sheet, name="rater-sheet"),
    path("r/<str:token>/text-size/<str:size>/", views.rater_text_size, name="rater-text-size"),
]
